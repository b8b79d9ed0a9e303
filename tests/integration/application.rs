//! Service integration: an application loads the config, starts the
//! manager, resolves tokens and hands services their sections.

use pp_secrets::{Application, Service, ServiceContext};

use crate::support::{block_on, cached_text, fixture};

#[derive(Default)]
struct Recorder {
    name: &'static str,
    context: Option<ServiceContext>,
}

impl Service for Recorder {
    fn name(&self) -> &str {
        self.name
    }
    fn attach(&mut self, context: ServiceContext) {
        self.context = Some(context);
    }
}

#[test]
fn services_get_their_resolved_section_and_the_shared_manager() {
    let mut app = block_on(Application::from_file(fixture("app/config.yaml"))).expect("starts");
    assert_eq!(app.load_report().loaded(), 3);
    let billing = app.register(Recorder {
        name: "billing",
        context: None,
    });
    let ctx = billing.context.expect("attached");
    assert_eq!(ctx.config()["creds"]["secret"], "xyz");
    assert_eq!(ctx.config()["key"], "pw-from-default");
    let secrets = ctx.secrets().expect("enabled");
    assert_eq!(
        cached_text(secrets, "local:db_host").as_deref(),
        Some("localhost")
    );
    assert_eq!(app.services(), ["billing"]);

    #[derive(serde::Deserialize)]
    struct Settings {
        name: String,
    }
    let settings: Settings = ctx.config_as().expect("deserialises");
    assert_eq!(settings.name, "billing");
}

#[test]
fn disabled_subsystem_hands_services_none_and_leaves_tokens() {
    let mut app =
        block_on(Application::from_file(fixture("errors/disabled.yaml"))).expect("starts");
    assert!(app.secrets().is_none());
    let x = app.register(Recorder {
        name: "x",
        context: None,
    });
    let ctx = x.context.expect("attached");
    assert!(ctx.secrets().is_none());
    assert_eq!(ctx.config()["token"], "${secret://env:ANYTHING}");
}

#[test]
fn unknown_service_gets_a_null_section() {
    let app = block_on(Application::from_file(fixture("errors/disabled.yaml"))).expect("starts");
    assert!(app.service_context("nope").config().is_null());
}
