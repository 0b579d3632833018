//! The API's endpoint: routes, methods, the filters, the call and the reply headers. Every
//! call of the API goes through the same steps; only the call itself and its reply differ.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method as HttpMethod, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use morcc_domain::idempotency::{self, InvalidKey};
use morcc_domain::{
    authenticate, card_balance_get, card_from_group_sell_once, card_group_get,
    card_payment_add_once, cc_by_cli_once, settings, Answered, ApiCall, AuditLog, Caller,
    CodeGenerator, Directory, FilterError, Fingerprint, IdempotencyKey, Method, Once, Origin,
    RecentFailures, Reply, Store, StoreError, TRANSACTION_FAILED,
};

use crate::card_reply;
use crate::params::{BodyKind, Params};
use crate::reply::{self, ActionEnvelope};
use crate::throttle::LoginThrottle;

/// The names each call answers to under `/api/` (its MOR names and their aliases); every one is
/// served at the root and under `/billing` (MOR installs live there).
pub fn call_names(call: ApiCall) -> &'static [&'static str] {
    match call {
        ApiCall::CcByCli => &["cc_by_cli", "card_by_cli_update"],
        ApiCall::CardGroupGet => &["card_group_get", "show_calling_card_group"],
        ApiCall::CardFromGroupSell => &["card_from_group_sell", "buy_card_from_callingroup"],
        ApiCall::CardBalanceGet => &["card_balance_get"],
        ApiCall::CardPaymentAdd => &["card_payment_add"],
    }
}

/// Every path served, with its call.
pub fn routes() -> Vec<(String, ApiCall)> {
    ApiCall::ALL
        .into_iter()
        .flat_map(|call| call_names(call).iter().map(move |name| (call, name)))
        .flat_map(|(call, name)| {
            ["", "/billing"].map(|prefix| (format!("{prefix}/api/{name}"), call))
        })
        .collect()
}

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
        for (path, call) in routes() {
            config.route(
                &path,
                web::route()
                    .to(move |request, body, services| api_endpoint(call, request, body, services)),
            );
        }
        config.route("/healthz", web::get().to(healthz));
    }
}

static REQUEST_IDS: AtomicU64 = AtomicU64::new(1);

/// What the blocking part of a request produced.
struct Answer {
    status: StatusCode,
    xml: String,
    outcome: &'static str,
    xml_extension: bool,
}

/// The header that carries an idempotency key (Stripe's; the IETF httpapi draft's).
const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
/// The parameter that carries one for clients that can only build URLs (not hashed).
const IDEMPOTENCY_KEY_PARAMETER: &str = "idempotency_key";
/// The answer to a key sent again with other parameters (HTTP 422).
pub const KEY_REUSED: &str = "Idempotency key was used with other parameters";
/// The answer to a key no request may carry (HTTP 400).
pub const KEY_INVALID: &str = "Idempotency key is invalid";

async fn api_endpoint(
    call: ApiCall,
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
    // The header wins over the parameter.
    let key_header = request
        .headers()
        .get(IDEMPOTENCY_KEY_HEADER)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
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
    let answer = web::block(move || {
        span.in_scope(|| {
            serve(
                call,
                &services,
                &params,
                key_header.as_deref(),
                method,
                &origin,
            )
        })
    })
    .await
    .unwrap_or_else(|_| action_failure(call, TRANSACTION_FAILED, false));
    crate::observe::request_served(call, answer.outcome, started.elapsed());
    tracing::info!(
        request_id,
        call = call.name(),
        route = request.path(),
        method = %request.method(),
        outcome = answer.outcome,
        duration_us = started.elapsed().as_micros() as u64,
        "request"
    );
    respond(answer, inline)
}

/// The filters, then the call; everything that touches storage, run on a blocking thread.
fn serve(
    call: ApiCall,
    services: &Services,
    params: &Params,
    key_header: Option<&str>,
    method: Method,
    origin: &Origin,
) -> Answer {
    let directory = services.directory.as_ref();
    // Read before anything is decided: once the call has committed, nothing may turn its reply
    // into a failure that the client would retry.
    let presentation = match Presentation::read(directory) {
        Ok(presentation) => presentation,
        Err(error) => {
            tracing::warn!(cause = %error, "settings unreadable");
            return action_failure(call, TRANSACTION_FAILED, false);
        }
    };
    let xml_extension = presentation.xml_extension;
    let key = match idempotency_key(call, key_header, params) {
        Ok(key) => key,
        Err(_) => return refusal(StatusCode::BAD_REQUEST, KEY_INVALID, xml_extension),
    };
    let username = params.get("u").unwrap_or_default();
    if services
        .throttle
        .is_locked_out(username, &origin.remote_address)
    {
        // Refused unseen: no user look-up, so a lockout costs the database nothing.
        crate::observe::login_refused();
        tracing::warn!(address = %origin.remote_address, "too many failed logins: refused");
        return filter_failure(&FilterError::BadLogin, xml_extension);
    }
    let credentials = params.credentials(call, method);
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
            return action_failure(call, error.text(), xml_extension);
        }
        Err(error) => return filter_failure(&error, xml_extension),
    };
    let served = run_call(
        call,
        services,
        &caller,
        params,
        key.as_ref(),
        presentation.digits,
    );
    match served {
        Ok(Served::Ran(xml)) => Answer {
            status: StatusCode::OK,
            xml,
            outcome: "ok",
            xml_extension,
        },
        Ok(Served::Replayed(xml)) => {
            crate::observe::replayed();
            Answer {
                status: StatusCode::OK,
                xml,
                outcome: "ok",
                xml_extension,
            }
        }
        Ok(Served::KeyReused) => {
            refusal(StatusCode::UNPROCESSABLE_ENTITY, KEY_REUSED, xml_extension)
        }
        Err(failure) => {
            if failure.is_service_failure {
                // The client only learns that it failed; the operator needs the cause. Storage
                // errors name kinds and columns, never values.
                tracing::warn!(cause = %failure.cause, "transaction failed");
            }
            action_failure(call, failure.text, xml_extension)
        }
    }
}

/// The idempotency key of a request whose call takes one: the header's, else the
/// parameter's. Other calls ignore a key: they change nothing.
fn idempotency_key(
    call: ApiCall,
    header: Option<&str>,
    params: &Params,
) -> Result<Option<IdempotencyKey>, InvalidKey> {
    if !idempotency::applies_to(call) {
        return Ok(None);
    }
    header
        .or_else(|| params.get(IDEMPOTENCY_KEY_PARAMETER))
        .map(IdempotencyKey::parse)
        .transpose()
}

/// What a call answered: the body of a success (run now, or kept from an earlier request with
/// the same idempotency key), or a refusal of a key reused with other parameters.
enum Served {
    Ran(String),
    Replayed(String),
    KeyReused,
}

/// The reply of a call that may carry an idempotency key, rendered by `render`.
fn served<T, E: Into<CallFailure>>(
    answered: Result<Answered<T>, E>,
    render: &dyn Fn(&T) -> String,
) -> Result<Served, CallFailure> {
    Ok(match answered.map_err(Into::into)? {
        Answered::Ran(value) => Served::Ran(render(&value)),
        Answered::Replayed(xml) => Served::Replayed(xml),
        Answered::KeyReused => Served::KeyReused,
    })
}

/// The idempotency context of a request with a key, whose reply `render` renders.
fn once<'a, T>(
    caller: &Caller,
    key: Option<&'a IdempotencyKey>,
    fingerprint: Option<&'a Fingerprint>,
    render: &'a dyn Fn(&T) -> String,
) -> Option<Once<'a, T>> {
    key.zip(fingerprint).map(|(key, fingerprint)| Once {
        user: caller.id,
        key,
        fingerprint,
        render,
    })
}

/// Why a call failed, as the endpoint answers and logs it.
struct CallFailure {
    text: &'static str,
    is_service_failure: bool,
    cause: String,
}

impl From<morcc_domain::CcError> for CallFailure {
    fn from(error: morcc_domain::CcError) -> CallFailure {
        CallFailure {
            text: error.text(),
            is_service_failure: error.is_service_failure(),
            cause: error.to_string(),
        }
    }
}

impl From<morcc_domain::CardCallError> for CallFailure {
    fn from(error: morcc_domain::CardCallError) -> CallFailure {
        CallFailure {
            text: error.text(),
            is_service_failure: error.is_service_failure(),
            cause: error.to_string(),
        }
    }
}

/// Runs the call for an authenticated caller and renders its success; with an idempotency
/// key, the reply is kept with the change, or the one kept under the key is answered.
fn run_call(
    call: ApiCall,
    services: &Services,
    caller: &Caller,
    params: &Params,
    key: Option<&IdempotencyKey>,
    digits: u32,
) -> Result<Served, CallFailure> {
    let store = services.store.as_ref();
    // Only a request with a key needs its fingerprint.
    let fingerprint = key.map(|_| Fingerprint::of(call, params.pairs()));
    let fingerprint = fingerprint.as_ref();
    match call {
        ApiCall::CcByCli => {
            let render = |reply: &Reply| reply::success(reply, digits);
            let once = once(caller, key, fingerprint, &render);
            let request = params.card_request();
            let codes = services.codes.as_ref();
            served(
                cc_by_cli_once(store, codes, caller, &request, once.as_ref()),
                &render,
            )
        }
        ApiCall::CardGroupGet => {
            let shown = card_group_get(store, caller, params.get("id"))?;
            Ok(Served::Ran(card_reply::card_group(&shown, digits)))
        }
        ApiCall::CardFromGroupSell => {
            let render = card_reply::cards_sold;
            let once = once(caller, key, fingerprint, &render);
            let request = params.sale_request();
            served(
                card_from_group_sell_once(store, caller, &request, once.as_ref()),
                &render,
            )
        }
        ApiCall::CardBalanceGet => {
            let balance = card_balance_get(store, caller, params.get("number"))?;
            Ok(Served::Ran(card_reply::card_balance(&balance)))
        }
        ApiCall::CardPaymentAdd => {
            let render = card_reply::card_payment;
            let once = once(caller, key, fingerprint, &render);
            let directory = services.directory.as_ref();
            let request = params.payment_request();
            let answered = card_payment_add_once(store, directory, caller, &request, once.as_ref());
            served(answered, &render)
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
    refusal(StatusCode::OK, error.text(), xml_extension)
}

/// A refusal in the filters' envelope, `<status><error>`.
fn refusal(status: StatusCode, text: &'static str, xml_extension: bool) -> Answer {
    Answer {
        status,
        xml: reply::filter_error(text),
        outcome: text,
        xml_extension,
    }
}

fn action_failure(call: ApiCall, text: &'static str, xml_extension: bool) -> Answer {
    Answer {
        status: StatusCode::OK,
        xml: ActionEnvelope::of(call).error(text),
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
    let mut response = HttpResponse::build(answer.status);
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
