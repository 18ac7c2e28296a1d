//! Operational endpoints: liveness and readiness.

use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::AppState;
use crate::error::{AppError, AppResult};

/// Readiness never hangs: a database that does not answer within this is "not ready".
const READY_TIMEOUT: Duration = Duration::from_secs(1);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> AppResult<Json<Value>> {
    if state.draining.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(AppError::ShuttingDown);
    }
    if state.alignment.is_warming() {
        return Err(AppError::WarmingUp);
    }
    let ping = async {
        let mut conn = state.control_db.acquire().await?;
        sqlx::query("select 1").execute(&mut *conn).await
    };
    match tokio::time::timeout(READY_TIMEOUT, ping).await {
        Ok(Ok(_)) => Ok(Json(json!({ "status": "ready" }))),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness check failed");
            Err(AppError::Unavailable)
        }
        Err(_) => Err(AppError::Unavailable),
    }
}
