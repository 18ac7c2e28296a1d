//! Where the PostgreSQL server binaries are on this machine.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::anyhow;

/// Where the server binaries are: the first directory holding `initdb`, `pg_ctl` and
/// `postgres`, searched on `PATH`, then in `pg_config --bindir`, then in
/// `/usr/lib/postgresql/<version>/bin`, newest version first.
pub fn find_binaries() -> anyhow::Result<PathBuf> {
    let pg_config_bindir = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    find_binaries_in(
        std::env::var_os("PATH"),
        pg_config_bindir,
        Path::new("/usr/lib/postgresql"),
    )
    .ok_or_else(|| {
        anyhow!(
            "no PostgreSQL server binaries (initdb, pg_ctl, postgres) were found on PATH, via pg_config \
             or under /usr/lib/postgresql: install them (Debian/Ubuntu: `apt-get install postgresql`, \
             macOS: `brew install postgresql`) or set DATABASE_URL to use an existing server"
        )
    })
}

/// [`find_binaries`] with its inputs made explicit, so that tests can point it anywhere.
pub fn find_binaries_in(
    path_var: Option<OsString>,
    pg_config_bindir: Option<PathBuf>,
    versioned_root: &Path,
) -> Option<PathBuf> {
    let on_path = path_var
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let mut versioned: Vec<(Vec<u32>, PathBuf)> = fs::read_dir(versioned_root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry
                .file_name()
                .to_str()?
                .split('.')
                .map(|part| part.parse().ok())
                .collect::<Option<Vec<u32>>>()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versioned.sort_by(|a, b| b.0.cmp(&a.0));
    on_path
        .into_iter()
        .chain(pg_config_bindir)
        .chain(versioned.into_iter().map(|(_, dir)| dir))
        .find(|dir| {
            ["initdb", "pg_ctl", "postgres"]
                .iter()
                .all(|bin| dir.join(bin).is_file())
        })
        // PATH often holds symlinks; pg_ctl must find `postgres` beside the real file.
        .map(|dir| {
            fs::canonicalize(dir.join("initdb"))
                .ok()
                .and_then(|real| real.parent().map(Path::to_path_buf))
                .unwrap_or(dir)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binaries_are_searched_on_path_then_pg_config_then_newest_version() {
        let root = tempfile::tempdir().unwrap();
        let make = |dir: &Path| {
            fs::create_dir_all(dir).unwrap();
            for bin in ["initdb", "pg_ctl", "postgres"] {
                fs::write(dir.join(bin), "").unwrap();
            }
        };
        let versioned = root.path().join("lib");
        make(&versioned.join("9.6/bin"));
        make(&versioned.join("16/bin"));
        make(&versioned.join("15/bin"));
        fs::create_dir_all(versioned.join("not-a-version/bin")).unwrap();
        let found = find_binaries_in(None, None, &versioned).unwrap();
        assert!(found.ends_with("16/bin"), "{found:?}");

        let config_dir = root.path().join("config/bin");
        make(&config_dir);
        let found = find_binaries_in(None, Some(config_dir.clone()), &versioned).unwrap();
        assert!(found.ends_with("config/bin"), "{found:?}");

        let path_dir = root.path().join("path/bin");
        make(&path_dir);
        let empty = root.path().join("empty");
        let path_var = std::env::join_paths([&empty, &path_dir]).unwrap();
        let found = find_binaries_in(Some(path_var), Some(config_dir), &versioned).unwrap();
        assert!(found.ends_with("path/bin"), "{found:?}");

        assert_eq!(
            find_binaries_in(Some(empty.into()), None, &root.path().join("none")),
            None
        );
    }
}
