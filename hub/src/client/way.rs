//! Every CLI command that changes or reads the hub's state, written once for
//! both ways of reaching it: through the running hub's coordinator API, so
//! that a change is pushed to the desks at once, or on the stopped store
//! itself (then desks get the change on their next connection).

use crate::admin::{self, DeskRow, Rollout};
use crate::config::{DataDir, HubConfig};
use crate::proposals::ProposalRow;
use crate::reports::Decision;
use crate::server;
use crate::storage::{Store, StoredReport};
use runtime::bundle::Bundle;

/// The period a `hub stats` asks for, as given (checked by the hub).
#[derive(Debug, Clone, Default)]
pub struct StatsPeriod {
    pub period: String,
    pub from_week: String,
    pub to_week: String,
}

/// How this command reaches the hub's state, chosen once per command.
pub enum Way {
    Hub(super::Client),
    Store {
        store: std::sync::Arc<dyn Store>,
        dir: DataDir,
    },
}

/// The hub's own refusal, as it worded it for the operator.
fn refused(s: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{}", s.message())
}

impl Way {
    /// Through the hub when one answers on the coordinator port, else on the
    /// store (which refuses to open while a hub holds it).
    pub async fn open(dir: &DataDir, config: &HubConfig) -> anyhow::Result<Way> {
        Ok(match super::connect(dir, config).await? {
            Some(client) => Way::Hub(client),
            None => Way::Store {
                store: server::open_store(dir, config)?,
                dir: dir.clone(),
            },
        })
    }

    pub async fn desks(self) -> anyhow::Result<Vec<DeskRow>> {
        match self {
            Way::Hub(mut c) => Ok(c
                .list_desks(proto::ListDesksRequest {})
                .await
                .map_err(refused)?
                .into_inner()
                .desks
                .into_iter()
                .map(DeskRow::from)
                .collect()),
            Way::Store { store, .. } => Ok(admin::list_desks(store.as_ref(), None)?),
        }
    }

    /// Enrols a desk whose bundle names `hub_addresses` (already resolved
    /// against `desk_addresses` by the caller).
    pub async fn add_desk(self, desk_id: &str, hub_addresses: &[String]) -> anyhow::Result<Bundle> {
        match self {
            Way::Hub(mut c) => {
                let bundle = c
                    .add_desk(proto::AddDeskRequest {
                        desk_id: desk_id.into(),
                        // The first alone too, for a hub from before the list.
                        hub_address: hub_addresses.first().cloned().unwrap_or_default(),
                        hub_addresses: hub_addresses.to_vec(),
                    })
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .bundle;
                let text = String::from_utf8(bundle)
                    .map_err(|_| anyhow::anyhow!("the hub sent a bundle that is not text"))?;
                Ok(Bundle::from_toml(&text, "response")?)
            }
            Way::Store { store, dir } => {
                let ca = server::load_ca(&dir)?;
                Ok(admin::add_desk(
                    store.as_ref(),
                    &ca,
                    desk_id,
                    hub_addresses,
                    crate::audit::CLI,
                )?)
            }
        }
    }

    pub async fn revoke_desk(self, desk_id: &str) -> anyhow::Result<()> {
        match self {
            Way::Hub(mut c) => {
                c.revoke_desk(proto::RevokeDeskRequest {
                    desk_id: desk_id.into(),
                })
                .await
                .map_err(refused)?;
            }
            Way::Store { store, .. } => {
                admin::revoke_desk(store.as_ref(), None, desk_id, crate::audit::CLI)?;
            }
        }
        Ok(())
    }

    /// `password_hash` is already Argon2: the password itself never leaves
    /// the CLI's process.
    pub async fn add_user(self, name: &str, password_hash: String) -> anyhow::Result<()> {
        match self {
            Way::Hub(mut c) => {
                c.add_user(proto::AddUserRequest {
                    name: name.into(),
                    password_hash,
                })
                .await
                .map_err(refused)?;
            }
            Way::Store { store, .. } => {
                crate::users::add_audited(store.as_ref(), name, &password_hash, crate::audit::CLI)?;
            }
        }
        Ok(())
    }

    pub async fn put_template(
        self,
        key: String,
        language: String,
        body: String,
        minor: bool,
    ) -> anyhow::Result<u64> {
        match self {
            Way::Hub(mut c) => Ok(c
                .put_template(proto::PutTemplateRequest {
                    key,
                    language,
                    body,
                    minor,
                })
                .await
                .map_err(refused)?
                .into_inner()
                .version),
            Way::Store { store, .. } => Ok(crate::answer_templates::put(
                store.as_ref(),
                None,
                &key,
                &language,
                &body,
                minor,
                crate::audit::CLI,
            )?),
        }
    }

    pub async fn publish_guidance(self, item: domain::GuidanceItem) -> anyhow::Result<u64> {
        match self {
            Way::Hub(mut c) => Ok(c
                .publish_guidance(proto::PublishGuidanceRequest {
                    item: Some(item.into()),
                })
                .await
                .map_err(refused)?
                .into_inner()
                .version),
            Way::Store { store, .. } => {
                crate::catalogue::ensure_seeded(store.as_ref())?;
                let (_, catalogue) = crate::catalogue::catalogues(store.as_ref())?;
                Ok(crate::guidance::publish(
                    store.as_ref(),
                    None,
                    &catalogue,
                    item,
                    crate::audit::CLI,
                )?)
            }
        }
    }

    pub async fn retire_guidance(self, id: String) -> anyhow::Result<u64> {
        match self {
            Way::Hub(mut c) => Ok(c
                .retire_guidance(proto::RetireGuidanceRequest { id })
                .await
                .map_err(refused)?
                .into_inner()
                .version),
            Way::Store { store, .. } => Ok(crate::guidance::retire(
                store.as_ref(),
                None,
                &id,
                crate::audit::CLI,
            )?),
        }
    }

    pub async fn rollout(self) -> anyhow::Result<Rollout> {
        match self {
            Way::Hub(mut c) => Ok(c
                .rollout(proto::RolloutRequest {})
                .await
                .map_err(refused)?
                .into_inner()
                .into()),
            Way::Store { store, .. } => Ok(admin::rollout(store.as_ref(), None)?),
        }
    }

    /// The published table as JSON, the same document both ways.
    pub async fn stats(
        self,
        by: Vec<String>,
        asked: StatsPeriod,
    ) -> anyhow::Result<serde_json::Value> {
        match self {
            Way::Hub(mut c) => {
                let json = c
                    .query_stats(proto::QueryStatsRequest {
                        by,
                        from_week: asked.from_week,
                        to_week: asked.to_week,
                        period: asked.period,
                    })
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .table_json;
                Ok(serde_json::from_str(&json)?)
            }
            Way::Store { store, .. } => {
                let by: Vec<&str> = by.iter().map(String::as_str).collect();
                let period = crate::stats::Period::from_args(
                    Some(&asked.period),
                    Some(&asked.from_week),
                    Some(&asked.to_week),
                )?;
                Ok(crate::stats::query(store.as_ref(), &by, &period)?.to_json())
            }
        }
    }

    pub async fn proposals(self) -> anyhow::Result<Vec<ProposalRow>> {
        let list = match self {
            Way::Hub(mut c) => c
                .list_proposals(proto::ListProposalsRequest {})
                .await
                .map_err(refused)?
                .into_inner()
                .proposals
                .into_iter()
                .map(domain::TemplateProposal::from)
                .collect(),
            Way::Store { store, .. } => crate::proposals::list(store.as_ref())?,
        };
        Ok(list.into_iter().map(ProposalRow::from).collect())
    }

    /// Returns the new template version when the proposal was accepted.
    pub async fn decide(self, id: &str, accept: bool) -> anyhow::Result<Option<u64>> {
        match self {
            Way::Hub(mut c) => {
                let v = c
                    .decide_proposal(proto::DecideProposalRequest {
                        id: id.into(),
                        accept,
                    })
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .template_version;
                Ok((accept && v > 0).then_some(v))
            }
            Way::Store { store, .. } => Ok(crate::proposals::decide(
                store.as_ref(),
                None,
                id,
                accept,
                crate::audit::CLI,
            )?),
        }
    }

    /// Every operator's report, as `hub reports --json` prints it.
    pub async fn reports(self) -> anyhow::Result<Vec<StoredReport>> {
        match self {
            Way::Hub(mut c) => {
                let json = c
                    .list_reports(proto::ListHubReportsRequest {})
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .listing_json;
                Ok(serde_json::from_str(&json)?)
            }
            Way::Store { store, .. } => Ok(crate::reports::rows(store.as_ref())?),
        }
    }

    pub async fn decide_report(self, id: &str, decision: Decision) -> anyhow::Result<()> {
        match self {
            Way::Hub(mut c) => {
                let (fixed, fixed_version, note) = match decision {
                    Decision::Fixed { version, note } => (true, version, note),
                    Decision::Declined { note } => (false, 0, note),
                };
                c.decide_report(proto::DecideReportRequest {
                    id: id.into(),
                    fixed,
                    fixed_version,
                    note,
                })
                .await
                .map_err(refused)?;
                Ok(())
            }
            Way::Store { store, .. } => {
                crate::reports::decide(store.as_ref(), None, id, decision, crate::audit::CLI)?;
                Ok(())
            }
        }
    }

    /// The harmonisation listing as JSON, the same document both ways.
    pub async fn templates(self) -> anyhow::Result<serde_json::Value> {
        match self {
            Way::Hub(mut c) => {
                let json = c
                    .list_templates(proto::ListTemplatesRequest {})
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .listing_json;
                Ok(serde_json::from_str(&json)?)
            }
            Way::Store { store, .. } => Ok(serde_json::to_value(crate::harmonise::listing(
                store.as_ref(),
            )?)?),
        }
    }

    /// Writes a backup to `out`: the running hub's, received whole and
    /// checked before it takes the name, or the stopped store's.
    pub async fn backup(self, out: &std::path::Path) -> anyhow::Result<crate::backup::Written> {
        let partial = crate::backup::partial_name(out);
        let written = match self {
            Way::Hub(mut c) => {
                use tokio::io::AsyncWriteExt;
                let mut stream = c
                    .backup(proto::BackupRequest {})
                    .await
                    .map_err(refused)?
                    .into_inner();
                let mut file = tokio::fs::File::from_std(crate::backup::create_secret(&partial)?);
                let mut bytes = 0u64;
                let received = async {
                    while let Some(chunk) = stream.message().await.map_err(refused)? {
                        bytes += chunk.data.len() as u64;
                        file.write_all(&chunk.data).await?;
                    }
                    file.sync_all().await?;
                    anyhow::Ok(())
                }
                .await;
                let checked = received.and_then(|()| crate::backup::check(&partial));
                if let Err(e) = checked {
                    std::fs::remove_file(&partial).ok();
                    return Err(e.context("the backup did not arrive whole; nothing was written"));
                }
                crate::backup::Written {
                    bytes,
                    ..Default::default()
                }
            }
            Way::Store { store, dir } => match crate::backup::write(&dir, store.as_ref(), &partial)
            {
                Ok(w) => w,
                Err(e) => {
                    std::fs::remove_file(&partial).ok();
                    return Err(e);
                }
            },
        };
        crate::backup::publish(&partial, out)?;
        Ok(written)
    }

    pub async fn put_catalogue(self, changes: Vec<domain::CatalogueEntry>) -> anyhow::Result<u64> {
        match self {
            Way::Hub(mut c) => Ok(c
                .put_catalogue(proto::PutCatalogueRequest {
                    procedures: changes.into_iter().map(Into::into).collect(),
                })
                .await
                .map_err(refused)?
                .into_inner()
                .version),
            Way::Store { store, .. } => Ok(crate::catalogue::put(
                store.as_ref(),
                None,
                changes,
                crate::audit::CLI,
            )?),
        }
    }

    pub async fn put_glossary(self, toml: String) -> anyhow::Result<u64> {
        match self {
            Way::Hub(mut c) => Ok(c
                .put_glossary(proto::PutGlossaryRequest { toml })
                .await
                .map_err(refused)?
                .into_inner()
                .version),
            Way::Store { store, .. } => Ok(crate::catalogue::put_glossary(
                store.as_ref(),
                None,
                toml,
                crate::audit::CLI,
            )?),
        }
    }

    pub async fn put_card(self, card: domain::Card) -> anyhow::Result<u64> {
        match self {
            Way::Hub(mut c) => Ok(c
                .put_card(proto::PutCardRequest {
                    card: Some(card.into()),
                })
                .await
                .map_err(refused)?
                .into_inner()
                .version),
            Way::Store { store, .. } => Ok(crate::cards::put(
                store.as_ref(),
                None,
                card,
                crate::audit::CLI,
            )?),
        }
    }

    pub async fn confirm_card(self, code: String) -> anyhow::Result<u64> {
        match self {
            Way::Hub(mut c) => Ok(c
                .confirm_card(proto::ConfirmCardRequest { code })
                .await
                .map_err(refused)?
                .into_inner()
                .version),
            Way::Store { store, .. } => Ok(crate::cards::confirm(
                store.as_ref(),
                None,
                &code,
                crate::audit::CLI,
                chrono::Utc::now().date_naive(),
            )?),
        }
    }

    /// What the network cannot yet serve, the same document both ways.
    pub async fn gaps(self, period: String) -> anyhow::Result<crate::gaps::Gaps> {
        match self {
            Way::Hub(mut c) => {
                let json = c
                    .list_gaps(proto::ListGapsRequest { period })
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .gaps_json;
                Ok(serde_json::from_str(&json)?)
            }
            Way::Store { store, .. } => {
                let period = crate::stats::Period::from_args(Some(&period), None, None)?;
                let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
                Ok(crate::gaps::build(store.as_ref(), &period, &today)?)
            }
        }
    }

    pub async fn cards(self) -> anyhow::Result<Vec<crate::cards::CardRow>> {
        match self {
            Way::Hub(mut c) => {
                let json = c
                    .list_cards(proto::ListCardsRequest {})
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .listing_json;
                Ok(serde_json::from_str(&json)?)
            }
            Way::Store { store, .. } => {
                let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
                Ok(crate::cards::listing(store.as_ref(), &today)?)
            }
        }
    }
}
