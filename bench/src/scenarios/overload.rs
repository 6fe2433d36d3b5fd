//! What the overload scenarios share: a hub with its dashboard on and an
//! account, desks connected and ingesting without pause (`Steady`), and the
//! hub's memory watched, so that a side load (sign-in floods, page views) is
//! measured against the desks' own figures in the same run.

use super::ingest::start_desks;
use super::steady::{Steady, Window};
use crate::desks::{DeskRoot, SimDesk};
use crate::hub_proc::{Binaries, Hub};
use crate::Sizes;
use std::path::Path;
use std::time::Duration;

pub(crate) const USER: &str = "coordinatore";

pub(crate) struct Loaded {
    pub hub: Hub,
    pub desks: Vec<SimDesk>,
    pub load: Steady,
    /// The dashboard's HOST:PORT.
    pub web: String,
    pub password: String,
    // Holds the desks' folders until the run ends.
    _root: DeskRoot,
}

impl Loaded {
    /// The hub and its desks ingesting, after `history` records were
    /// filled in through the same desks.
    pub(crate) async fn start(
        bins: &Binaries,
        dir: &Path,
        sizes: &Sizes,
        history: u64,
    ) -> anyhow::Result<Self> {
        let mut hub = Hub::init(bins, dir)?;
        let bundles = hub.enrol("load", sizes.ingest_desks)?;
        let (web, password) = hub.dashboard(USER)?;
        hub.start().await?;
        let root = DeskRoot::new(dir, sizes.desk_dir.as_deref())?;
        let desks = start_desks(&root, &bundles, &mut hub).await?;
        crate::desks::visit_pool();
        if history > 0 {
            super::history::fill(&mut hub, &desks, history).await?;
        }
        let mut load = Steady::start(&desks, None);
        // The first second fills every desk's window and the hub's caches.
        load.window(Duration::from_secs(1)).await?;
        Ok(Self {
            hub,
            desks,
            load,
            web,
            password,
            _root: root,
        })
    }

    /// A dashboard client from `source`, trusting the hub's CA.
    pub(crate) fn client(&self, source: std::net::IpAddr) -> anyhow::Result<e2e::web::Web> {
        Ok(e2e::web::Web::new(&self.hub.data, &self.web)?.from_source(source))
    }

    /// Measures while `side` runs: the desks' window and `side`'s result.
    pub(crate) async fn during<T>(
        &mut self,
        length: Duration,
        side: impl std::future::Future<Output = T>,
    ) -> anyhow::Result<(Window, T)> {
        let (w, t) = tokio::join!(self.load.window(length), side);
        Ok((w?, t))
    }

    pub(crate) async fn finish(mut self) -> anyhow::Result<()> {
        self.hub.check_alive()?;
        self.load.stop().await;
        for d in &mut self.desks {
            d.stop().await;
        }
        self.hub.kill();
        Ok(())
    }
}
