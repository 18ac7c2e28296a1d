//! Two statements side by side: every country of either, its part in each, and
//! whether it took opposite sides in them.

use serde::Serialize;
use sqlx::PgPool;
use sqlx::types::Json as SqlJson;

use super::countries::Country;
use crate::domain::{EffectiveStance, Role};

/// One country of either statement.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct ComparedCountry {
    pub country: SqlJson<Country>,
    /// `both`, `only_a` or `only_b`.
    pub presence: String,
    pub a: Option<SqlJson<Part>>,
    pub b: Option<SqlJson<Part>>,
    pub opposite_sides: bool,
}

/// A country's part in one of the two statements.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize)]
pub struct Part {
    pub role: Role,
    pub effective_stance: EffectiveStance,
}

/// The countries of the statements `a` and `b`: those in both first, then those in
/// `a` only, then in `b` only, each by name.
pub async fn countries(db: &PgPool, a: &str, b: &str) -> Result<Vec<ComparedCountry>, sqlx::Error> {
    // Both participations side by side; opposite_sides() is the SQL definition of
    // taking opposite sides (critical against supportive, yes against no).
    sqlx::query_as(
        "with a as (select * from participation where statement_id = $1), \
              b as (select * from participation where statement_id = $2) \
         select to_jsonb(c) as country, \
                case when a.country_code is null then 'only_b' \
                     when b.country_code is null then 'only_a' else 'both' end as presence, \
                case when a.country_code is not null \
                     then jsonb_build_object('role', a.role, 'effective_stance', a.effective_stance) end as a, \
                case when b.country_code is not null \
                     then jsonb_build_object('role', b.role, 'effective_stance', b.effective_stance) end as b, \
                coalesce(opposite_sides(a.effective_stance, b.effective_stance), false) as opposite_sides \
         from a full join b on b.country_code = a.country_code \
         join country c on c.code = coalesce(a.country_code, b.country_code) \
         order by (a.country_code is null), (b.country_code is null), c.name, c.code",
    )
    .bind(a)
    .bind(b)
    .fetch_all(db)
    .await
}
