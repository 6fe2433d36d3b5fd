//! Dashboard accounts on PostgreSQL: table `users`, the `User` as JSON
//! under its name, so that every replica signs in the same coordinators.

use crate::storage::postgres::{from_json, json, PostgresStore};
use crate::storage::{StorageError, User, UserDirectory};

impl UserDirectory for PostgresStore {
    fn users(&self) -> Result<Vec<User>, StorageError> {
        self.query(
            "SELECT \"user\" FROM users ORDER BY name COLLATE \"C\"",
            &[],
        )?
        .into_iter()
        .map(|r| from_json(r.get(0)))
        .collect()
    }

    fn user(&self, name: &str) -> Result<Option<User>, StorageError> {
        self.query("SELECT \"user\" FROM users WHERE name = $1", &[&name])?
            .into_iter()
            .next()
            .map(|r| from_json(r.get(0)))
            .transpose()
    }

    fn add_user(&self, user: &User) -> Result<bool, StorageError> {
        let added = self.execute(
            "INSERT INTO users (name, \"user\") VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&user.name, &json(user)?],
        )?;
        Ok(added == 1)
    }
}
