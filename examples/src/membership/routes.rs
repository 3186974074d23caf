//! The user and article routes, and [`ApiError`], how the app refuses. Authentication is
//! `clerk_actix`'s (`ClerkAuth`, `OptionalAuth`); the app adds who the caller is to it (their
//! row, their tier) and what they may do (owners only, tiers). A database that cannot be
//! reached is 503 `database-unavailable`, whoever asks: never a refusal that blames the caller.

use crate::membership::db::{self, bounded, Db};
use crate::membership::model::{ArticleInput, ProfileInput, Tier, User};
use crate::membership::store::{self, Member, Owned};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{delete, get, post, put, web, HttpResponse, ResponseError};
use clerk_actix::{ClerkAuth, OptionalAuth};
use clerk_verify::Auth;
use serde_json::json;
use std::fmt;

/// Why the app refused a request: `{"error", "reason", "message"}` with the status, like the
/// Clerk adapters' refusals.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    reason: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, reason: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            reason,
            message: message.into(),
        }
    }

    /// 400 for a body the route cannot use.
    pub fn invalid_body(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid-body", message)
    }

    /// 401 for a token of a user Clerk deleted.
    fn user_deleted() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "user-deleted",
            "this user was deleted; their sessions are no longer accepted",
        )
    }

    /// 401 for an anonymous caller on a members' article.
    fn sign_in_required() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "sign-in-required",
            "sign in to read this article",
        )
    }

    fn tier_too_low(needed: Tier) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "tier-too-low",
            format!("this article is for {} members", needed.as_str()),
        )
    }

    fn not_owner(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "not-owner",
            format!("only the owner may change this {what}"),
        )
    }

    fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("no such {what}"),
        )
    }

    /// 500; the cause goes to the log, not the client.
    pub fn internal(detail: &str) -> ApiError {
        log::error!(target: "membership", "{detail}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal-error",
            "the server could not complete the request",
        )
    }

    /// 503 (with `Retry-After`) when the database cannot be reached, else 500; the cause
    /// goes to the log.
    pub fn database(e: db::Error) -> ApiError {
        match e {
            db::Error::Unavailable(_) => {
                log::warn!(target: "membership", "{e}");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database-unavailable",
                    "the database cannot be reached; try again shortly",
                )
            }
            db::Error::Failed(_) => ApiError::internal(&e.to_string()),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.status, self.reason, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let error = match self.status {
            StatusCode::BAD_REQUEST => "bad_request",
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::SERVICE_UNAVAILABLE => "service_unavailable",
            _ => "internal_server_error",
        };
        let mut res = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            res.insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")));
        }
        res.json(json!({ "error": error, "reason": self.reason, "message": self.message }))
    }
}

/// The signed-in caller's row (made provisional if new); 401 if Clerk deleted them.
async fn caller(db: &web::Data<Db>, auth: &Auth) -> Result<User, ApiError> {
    match bounded(store::member(db, auth.user_id()))
        .await
        .map_err(ApiError::database)?
    {
        Member::Known(user) => Ok(user),
        Member::Deleted => Err(ApiError::user_deleted()),
    }
}

/// `GET /users/me`: `{id, email, first_name, last_name, tier}`.
#[get("/users/me")]
async fn users_me(db: web::Data<Db>, auth: ClerkAuth) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(caller(&db, &auth).await?))
}

/// `PUT /users/{id}`: the owner replaces their names; 403 for anyone else, 404 when absent.
#[put("/users/{id}")]
async fn update_user(
    db: web::Data<Db>,
    auth: ClerkAuth,
    id: web::Path<String>,
    input: web::Json<ProfileInput>,
) -> Result<HttpResponse, ApiError> {
    if let Some(problem) = input.problem() {
        return Err(ApiError::invalid_body(problem));
    }
    let me = caller(&db, &auth).await?;
    let result = bounded(store::update_profile(
        &db,
        &me.id,
        &id,
        input.first_name.as_deref(),
        input.last_name.as_deref(),
    ))
    .await
    .map_err(ApiError::database)?;
    match result {
        Owned::Done(user) => Ok(HttpResponse::Ok().json(user)),
        Owned::NotFound => Err(ApiError::not_found("user")),
        Owned::NotOwner => Err(ApiError::not_owner("profile")),
    }
}

/// `POST /articles`: an article by the caller; 201 with it.
#[post("/articles")]
async fn create_article(
    db: web::Data<Db>,
    auth: ClerkAuth,
    input: web::Json<ArticleInput>,
) -> Result<HttpResponse, ApiError> {
    if let Some(problem) = input.problem() {
        return Err(ApiError::invalid_body(problem));
    }
    let me = caller(&db, &auth).await?;
    let article = bounded(store::create_article(&db, &me.id, &input))
        .await
        .map_err(ApiError::database)?;
    Ok(HttpResponse::Created().json(article))
}

/// `GET /articles/accessible`: `[{id, title, tier, author}]` the caller may read (anonymous
/// callers read `free`).
#[get("/articles/accessible")]
async fn accessible(db: web::Data<Db>, auth: OptionalAuth) -> Result<HttpResponse, ApiError> {
    let tier = match auth.as_ref() {
        Some(auth) => caller(&db, auth).await?.tier,
        None => Tier::Free,
    };
    let list = bounded(store::accessible_articles(&db, tier))
        .await
        .map_err(ApiError::database)?;
    Ok(HttpResponse::Ok().json(list))
}

/// `GET /articles/{id}`: 200 when the caller's tier covers it, 401 anonymous on a members'
/// article, 403 when the tier is too low, 404 when absent.
#[get("/articles/{id}")]
async fn read_article(
    db: web::Data<Db>,
    auth: OptionalAuth,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let found = bounded(store::article(&db, id.into_inner()))
        .await
        .map_err(ApiError::database)?;
    let Some(article) = found else {
        return Err(ApiError::not_found("article"));
    };
    if article.tier != Tier::Free {
        let Some(auth) = auth.as_ref() else {
            return Err(ApiError::sign_in_required());
        };
        if !caller(&db, auth).await?.tier.can_read(article.tier) {
            return Err(ApiError::tier_too_low(article.tier));
        }
    }
    Ok(HttpResponse::Ok().json(article))
}

/// `PUT /articles/{id}`: the author replaces it; 403 for anyone else, 404 when absent.
#[put("/articles/{id}")]
async fn update_article(
    db: web::Data<Db>,
    auth: ClerkAuth,
    id: web::Path<i64>,
    input: web::Json<ArticleInput>,
) -> Result<HttpResponse, ApiError> {
    if let Some(problem) = input.problem() {
        return Err(ApiError::invalid_body(problem));
    }
    let me = caller(&db, &auth).await?;
    let result = bounded(store::update_article(&db, &me.id, id.into_inner(), &input))
        .await
        .map_err(ApiError::database)?;
    match result {
        Owned::Done(article) => Ok(HttpResponse::Ok().json(article)),
        Owned::NotFound => Err(ApiError::not_found("article")),
        Owned::NotOwner => Err(ApiError::not_owner("article")),
    }
}

/// `DELETE /articles/{id}`: the author deletes it (204); 403 for anyone else, 404 when absent.
#[delete("/articles/{id}")]
async fn delete_article(
    db: web::Data<Db>,
    auth: ClerkAuth,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let me = caller(&db, &auth).await?;
    let result = bounded(store::delete_article(&db, &me.id, id.into_inner()))
        .await
        .map_err(ApiError::database)?;
    match result {
        Owned::Done(()) => Ok(HttpResponse::NoContent().finish()),
        Owned::NotFound => Err(ApiError::not_found("article")),
        Owned::NotOwner => Err(ApiError::not_owner("article")),
    }
}

/// The routes, for `App::configure`. `/articles/accessible` comes before `/articles/{id}`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(users_me)
        .service(update_user)
        .service(create_article)
        .service(accessible)
        .service(read_article)
        .service(update_article)
        .service(delete_article);
}
