// `sqlx::migrate!()` embeds migrations/ at compile time; without this a changed or
// added migration would not reach the binary until something else changed.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
