//! The `cc_by_cli` endpoint: routes, methods, the filters, the call and the reply headers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method as HttpMethod, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use morcc_domain::{
    authenticate, cc_by_cli, settings, AuditLog, CodeGenerator, Directory, FilterError, Method,
    Origin, RecentFailures, Store, StoreError, TRANSACTION_FAILED,
};

use crate::params::{BodyKind, Params};
use crate::reply;
use crate::throttle::LoginThrottle;

/// The paths of the call: its MOR 11 and MOR X4 names, at the root and under `/billing`.
pub const ROUTES: [&str; 4] = [
    "/api/cc_by_cli",
    "/api/card_by_cli_update",
    "/billing/api/cc_by_cli",
    "/billing/api/card_by_cli_update",
];

/// Whether the database answers, for `/healthz`.
pub trait HealthCheck: Send + Sync {
    /// True when a trivial query succeeds.
    fn is_healthy(&self) -> bool;
}

/// The ports the endpoint drives.
#[derive(Clone)]
pub struct Services {
    /// Transactions that move money.
    pub store: Arc<dyn Store>,
    /// Users and settings.
    pub directory: Arc<dyn Directory>,
    /// Where failed logins and hashes are recorded.
    pub audit: Arc<dyn AuditLog>,
    /// New card numbers and PINs.
    pub codes: Arc<dyn CodeGenerator>,
    /// The database's health.
    pub health: Arc<dyn HealthCheck>,
    /// Failed-login counts, shared by all workers of this instance.
    pub throttle: Arc<LoginThrottle>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}

/// Limits of the endpoint.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// The largest request body accepted; larger ones answer 413.
    pub body_limit: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            body_limit: 64 * 1024,
        }
    }
}

/// Registers the routes and `/healthz` on an actix-web app.
pub fn configure(services: Services, limits: HttpLimits) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        config
            .app_data(web::Data::new(services))
            .app_data(web::PayloadConfig::new(limits.body_limit));
        for route in ROUTES {
            config.route(route, web::route().to(cc_by_cli_endpoint));
        }
        config.route("/healthz", web::get().to(healthz));
    }
}

static REQUEST_IDS: AtomicU64 = AtomicU64::new(1);

/// What the blocking part of a request produced.
struct Answer {
    xml: String,
    outcome: &'static str,
    xml_extension: bool,
}

async fn cc_by_cli_endpoint(
    request: HttpRequest,
    body: web::Bytes,
    services: web::Data<Services>,
) -> HttpResponse {
    let started = Instant::now();
    let request_id = REQUEST_IDS.fetch_add(1, Ordering::Relaxed);
    let method = match *request.method() {
        HttpMethod::GET => Method::Get,
        HttpMethod::POST => Method::Post,
        _ => {
            return HttpResponse::MethodNotAllowed()
                .insert_header((header::ALLOW, "GET, POST"))
                .finish()
        }
    };
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    let params = Params::collect(
        request.query_string(),
        BodyKind::from_content_type(content_type),
        &body,
    );
    let inline = params.is_test();
    let origin = Origin {
        remote_address: request
            .peer_addr()
            .map(|address| address.ip().to_string())
            .unwrap_or_default(),
        // The path only: the query string carries the password and the hash.
        target: request.path().to_owned(),
    };
    // The blocking thread's warnings (a failed transaction's cause) carry the request id too.
    let span = tracing::info_span!("request", request_id);
    let answer = web::block(move || span.in_scope(|| serve(&services, &params, method, &origin)))
        .await
        .unwrap_or_else(|_| Answer {
            xml: reply::action_error(TRANSACTION_FAILED),
            outcome: TRANSACTION_FAILED,
            xml_extension: false,
        });
    tracing::info!(
        request_id,
        route = request.path(),
        method = %request.method(),
        outcome = answer.outcome,
        duration_us = started.elapsed().as_micros() as u64,
        "cc_by_cli"
    );
    respond(answer, inline)
}

/// The filters, then the call; everything that touches storage, run on a blocking thread.
fn serve(services: &Services, params: &Params, method: Method, origin: &Origin) -> Answer {
    let directory = services.directory.as_ref();
    // Read before anything is decided: once the call has committed, nothing may turn its reply
    // into a failure that the client would retry.
    let presentation = match Presentation::read(directory) {
        Ok(presentation) => presentation,
        Err(error) => {
            tracing::warn!(cause = %error, "settings unreadable");
            return action_failure(TRANSACTION_FAILED, false);
        }
    };
    let xml_extension = presentation.xml_extension;
    let username = params.get("u").unwrap_or_default();
    if services
        .throttle
        .is_locked_out(username, &origin.remote_address)
    {
        // Refused unseen: no user look-up, so a lockout costs the database nothing.
        tracing::warn!(address = %origin.remote_address, "too many failed logins: refused");
        return filter_failure(&FilterError::BadLogin, xml_extension);
    }
    let credentials = params.credentials(method);
    let authenticated = authenticate(directory, services.audit.as_ref(), &credentials, origin);
    match &authenticated {
        Ok(_) => services
            .throttle
            .record_success(username, &origin.remote_address),
        Err(error) if error.is_probe() => {
            // The failure is in the shared log by now (`authenticate` recorded it): its count
            // holds every instance's failures.
            let shared = services
                .audit
                .recent_failures(username, &origin.remote_address, services.throttle.window())
                .unwrap_or_else(|error| {
                    tracing::warn!(cause = %error, "failed-login counts unreadable");
                    RecentFailures::default()
                });
            services
                .throttle
                .record_failure(username, &origin.remote_address, shared)
        }
        Err(_) => {}
    }
    let caller = match authenticated {
        Ok(caller) => caller,
        // A storage failure is not a verdict on the request: answer as the call would.
        Err(error @ FilterError::Storage(_)) => {
            tracing::warn!(cause = %error, "users or settings unreadable");
            return action_failure(error.text(), xml_extension);
        }
        Err(error) => return filter_failure(&error, xml_extension),
    };
    let store = services.store.as_ref();
    match cc_by_cli(
        store,
        services.codes.as_ref(),
        &caller,
        &params.card_request(),
    ) {
        Ok(success) => Answer {
            xml: reply::success(&success, presentation.digits),
            outcome: "ok",
            xml_extension,
        },
        Err(error) => {
            if error.is_service_failure() {
                // The client only learns that it failed; the operator needs the cause. Storage
                // errors name kinds and columns, never values.
                tracing::warn!(cause = %error, "transaction failed");
            }
            action_failure(error.text(), xml_extension)
        }
    }
}

/// The settings that shape every reply (spec §1, §5), owner 0.
struct Presentation {
    xml_extension: bool,
    digits: u32,
}

impl Presentation {
    fn read(directory: &dyn Directory) -> Result<Presentation, StoreError> {
        Ok(Presentation {
            xml_extension: settings::is_enabled(
                directory,
                settings::XML_API_EXTENSION,
                settings::SYSTEM,
            )?,
            digits: settings::nice_number_digits(directory)?,
        })
    }
}

fn filter_failure(error: &FilterError, xml_extension: bool) -> Answer {
    let text = error.text();
    Answer {
        xml: reply::filter_error(text),
        outcome: text,
        xml_extension,
    }
}

fn action_failure(text: &'static str, xml_extension: bool) -> Answer {
    Answer {
        xml: reply::action_error(text),
        outcome: text,
        xml_extension,
    }
}

/// HTTP 200 with MOR's content type and, unless `test=1`, its attachment header.
fn respond(answer: Answer, inline: bool) -> HttpResponse {
    let (content_type, attachment) = if answer.xml_extension {
        (
            "text/xml; charset=utf-8",
            "attachment; filename=\"mor_api_response.xml\"",
        )
    } else {
        (
            "text/html; charset=utf-8",
            "attachment; filename=\"mor_api_response.html\"",
        )
    };
    let mut response = HttpResponse::build(StatusCode::OK);
    response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(content_type)));
    if !inline {
        response.insert_header((
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static(attachment),
        ));
    }
    response.body(answer.xml)
}

async fn healthz(services: web::Data<Services>) -> HttpResponse {
    let healthy = web::block(move || services.health.is_healthy())
        .await
        .unwrap_or(false);
    if healthy {
        HttpResponse::Ok().body("ok\n")
    } else {
        HttpResponse::ServiceUnavailable().body("database unavailable\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::throttle::ThrottleLimits;
    use actix_web::{test, App};
    use morcc_domain::ports::{MockAuditLog, MockCodeGenerator, MockDirectory};
    use morcc_domain::{Ledger, UnitError};
    use std::sync::atomic::AtomicUsize;

    /// A store that counts the units of work it is asked to run, and fails them.
    #[derive(Default)]
    struct CountingStore(AtomicUsize);

    impl Store for CountingStore {
        fn run_unit(
            &self,
            _: &mut dyn FnMut(&mut dyn Ledger) -> Result<(), UnitError>,
        ) -> Result<(), UnitError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Err(UnitError::Store(StoreError::Failure(
                "not in this test".into(),
            )))
        }
    }

    struct Healthy;

    impl HealthCheck for Healthy {
        fn is_healthy(&self) -> bool {
            true
        }
    }

    #[actix_web::test]
    async fn unreadable_reply_settings_fail_the_request_before_the_call_runs() {
        let mut directory = MockDirectory::new();
        directory.expect_setting().returning(|name, _| match name {
            settings::NICE_NUMBER_DIGITS => Err(StoreError::Failure("down".into())),
            _ => Ok(Some("1".into())),
        });
        directory.expect_account_by_username().never();
        let store = Arc::new(CountingStore::default());
        let services = Services {
            store: store.clone(),
            directory: Arc::new(directory),
            audit: Arc::new(MockAuditLog::new()),
            codes: Arc::new(MockCodeGenerator::new()),
            health: Arc::new(Healthy),
            throttle: Arc::new(LoginThrottle::new(ThrottleLimits::default())),
        };
        let app =
            test::init_service(App::new().configure(configure(services, HttpLimits::default())))
                .await;
        let request = test::TestRequest::post()
            .uri("/api/cc_by_cli")
            .set_form([
                ("u", "admin"),
                ("p", "pw"),
                ("callerid", "4444"),
                ("amount", "5"),
            ])
            .to_request();
        let body = test::call_and_read_body(&app, request).await;
        assert_eq!(body, reply::action_error(TRANSACTION_FAILED).as_bytes());
        assert_eq!(store.0.load(Ordering::SeqCst), 0, "no unit of work ran");
    }
}
