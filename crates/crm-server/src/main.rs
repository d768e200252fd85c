//! The `crm-server` binary: parses the command line and runs one command (`serve` by
//! default). See `crm-server --help`.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use anyhow::{Context as _, Result, bail};
use clap::Parser as _;
use tracing_subscriber::EnvFilter;

use crm_core::access::Actor;
use crm_core::service::{NewTenant, TenantSettingsPatch};
use crm_server::config::{
    ActorArgs, AgentCommand, Cli, Command, Config, ExportCommand, ImportCommand, LogFormat, OnError, SearchCommand,
    TenantCommand, TokenCommand,
};
use crm_server::csv_io::{self, ImportError, NoProgress, Progress};
use crm_server::seed::{bootstrap_tenant, seed_demo};
use crm_server::{ServerConfig, Services};

/// The process's allocator (ADR 0011): the server allocates per request (headers, the
/// card, its JSON) and the bulk seed per row; glibc's `malloc` and `free` were 9 % of the
/// server's CPU under a screen-pop load, and mimalloc served 15-20 % more screen pops.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let config = cli.config()?;
    init_logs(&config);
    match cli.command.unwrap_or(Command::Serve(cli.serve)) {
        Command::Serve(_) => serve(config).await,
        #[cfg(feature = "bench")]
        Command::BenchSeed { customers } => {
            crm_server::bench_seed::run(&config.database_url, customers).await?;
            Ok(())
        }
        Command::Migrate => {
            Services::open(&config.database_url, config.settings.store_options())
                .await
                .context("migrating the database")?;
            println!("database migrated");
            Ok(())
        }
        Command::Token(TokenCommand::Create { tenant, agent, role, label }) => {
            let services = Services::open(&config.database_url, config.settings.store_options()).await?;
            let tenant = csv_io::parse_tenant(&tenant)?;
            let agent = agent.trim().parse().map_err(|_| anyhow::anyhow!("{agent:?} is not an agent id"))?;
            let role = role.parse().map_err(|e: crm_core::FieldError| anyhow::anyhow!("{}", e.reason))?;
            let token = services.tokens.create(tenant, agent, role, &label).await?;
            println!("{token}");
            Ok(())
        }
        Command::Tenant(TenantCommand::Create { name, region, time_zone, admin_name, admin_email }) => {
            let services = Services::open(&config.database_url, config.settings.store_options()).await?;
            let boot = bootstrap_tenant(
                &services,
                NewTenant { name, default_region: region, time_zone },
                &admin_name,
                &admin_email,
            )
            .await?;
            println!("tenant:  {}\nadmin:   {}\ntoken:   {}", boot.tenant.id, boot.admin.id, boot.token);
            Ok(())
        }
        Command::Tenant(TenantCommand::List) => {
            let services = Services::open(&config.database_url, config.settings.store_options()).await?;
            let tenants = services.crm.list_tenants().await?;
            println!("{:<36}  {:<6}  {:<24}  name", "id", "region", "time zone");
            for t in &tenants {
                println!("{:<36}  {:<6}  {:<24}  {}", t.id, t.default_region, t.time_zone.name(), t.name);
            }
            eprintln!("{} tenant(s)", tenants.len());
            Ok(())
        }
        Command::Tenant(TenantCommand::Update { tenant, region, time_zone }) => {
            let services = Services::open(&config.database_url, config.settings.store_options()).await?;
            let tenant = csv_io::parse_tenant(&tenant)?;
            let patch = TenantSettingsPatch { default_region: region, time_zone, slug: None };
            let t = services.crm.update_tenant_settings(tenant, None, patch).await?;
            println!("tenant {}: region {}, time zone {}", t.id, t.default_region, t.time_zone.name());
            Ok(())
        }
        Command::Agent(AgentCommand::List { tenant }) => {
            let services = Services::open(&config.database_url, config.settings.store_options()).await?;
            let tenant = csv_io::parse_tenant(&tenant)?;
            let agents = services.crm.operator_agents(tenant).await?;
            println!("{:<36}  {:<13}  {:<6}  {:<32}  name", "id", "role", "active", "email");
            for a in &agents {
                // A tenant-defined role replaces the built-in one: shown as `role:<id>`.
                let role = a.custom_role.map_or_else(|| a.role.as_str().to_owned(), |id| format!("role:{id}"));
                println!("{:<36}  {:<13}  {:<6}  {:<32}  {}", a.id, role, a.active, a.email, a.name);
            }
            eprintln!(
                "{} agent(s); mint a token with: crm-server token create --tenant {tenant} --agent <id> --role administrator",
                agents.len()
            );
            Ok(())
        }
        Command::Agent(AgentCommand::SetRole { tenant, agent, role }) => {
            let services = Services::open(&config.database_url, config.settings.store_options()).await?;
            let tenant = csv_io::parse_tenant(&tenant)?;
            let agent = agent.trim().parse().map_err(|_| anyhow::anyhow!("{agent:?} is not an agent id"))?;
            let a = services.crm.set_agent_role_as_operator(tenant, agent, &role).await?;
            match a.custom_role {
                Some(id) => println!("agent {} now holds the tenant role {id}", a.id),
                None => println!("agent {} now holds the built-in role {}", a.id, a.role.as_str()),
            }
            Ok(())
        }
        Command::Agent(AgentCommand::SetPassword { tenant, agent }) => {
            let services = Services::open(&config.database_url, config.settings.store_options()).await?;
            let tenant = csv_io::parse_tenant(&tenant)?;
            let agent = agent.trim().parse().map_err(|_| anyhow::anyhow!("{agent:?} is not an agent id"))?;
            let password = match std::env::var("CRM_AGENT_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    if std::io::stdin().is_terminal() {
                        eprint!("password: ");
                        std::io::stderr().flush()?;
                    }
                    let mut line = String::new();
                    std::io::stdin().lock().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            services
                .crm
                .set_agent_password_as_operator(tenant, agent, &password, &|p: &str| {
                    crm_server::console::hash_password(p)
                })
                .await?;
            println!("password set for agent {agent}");
            Ok(())
        }
        Command::Import(ImportCommand::Customers { file, actor, on_error }) => {
            import(&config, &file, &actor, on_error).await
        }
        Command::Import(ImportCommand::CallListEntries { list, file, actor }) => {
            let services = Services::open(&config.database_url, config.settings.store_options()).await?;
            let actor = actor_of(&services, &actor).await?;
            let list = list.trim().parse().map_err(|_| anyhow::anyhow!("{list:?} is not a call list id"))?;
            let input = std::fs::File::open(&file).with_context(|| format!("opening {}", file.display()))?;
            let rows = crm_server::outbound_csv::entry_rows(std::io::BufReader::new(input))
                .map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.reason))?;
            let bar: Box<dyn Progress> = if std::io::stderr().is_terminal() {
                let bar = indicatif::ProgressBar::new(rows.len() as u64);
                bar.set_style(
                    indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows {elapsed}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                Box::new(bar)
            } else {
                Box::new(NoProgress)
            };
            let report = crm_server::outbound_csv::import_in_batches(&services.crm, &actor, list, rows, &*bar).await;
            for r in &report.rejected {
                eprintln!("row {}: {}: {}", r.row, r.field, r.reason);
            }
            println!("{} row(s) read, {} imported, {} refused", report.rows, report.imported, report.rejected.len());
            match report.failure {
                Some(e) => bail!("stopped after {} imported rows: {e}", report.imported),
                None => Ok(()),
            }
        }
        Command::Export(ExportCommand::Customers { actor, output }) => {
            let services = Services::open(&config.database_url, config.settings.store_options()).await?;
            let actor = actor_of(&services, &actor).await?;
            let count = match output {
                Some(path) => {
                    let file = std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
                    csv_io::export_customers(&services, &actor, std::io::BufWriter::new(file)).await?
                }
                None => csv_io::export_customers(&services, &actor, std::io::stdout().lock()).await?,
            };
            eprintln!("exported {count} customers");
            Ok(())
        }
        Command::Search(SearchCommand::Reindex) => reindex(&config).await,
        Command::Audit(command) => {
            let services = Services::open(&config.database_url, config.settings.store_options()).await?;
            if !crm_server::audit_cli::run(&services.crm, command).await? {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::SeedDemo => {
            let services = Services::open(&config.database_url, config.settings.store_options()).await?;
            let seed = seed_demo(&services).await?;
            services.first_start(false).await?;
            println!(
                "demo tenant {} seeded\nadministrator:       {}\nadministrator token: {}\nconsole sign-in:     {} / {}",
                seed.tenant,
                seed.admin,
                seed.admin_token,
                crm_server::seed::DEMO_ADMIN_EMAIL,
                seed.admin_password
            );
            Ok(())
        }
    }
}

/// Logs go to standard error, coloured only when it is a terminal (a file or a pipe gets
/// plain text).
fn init_logs(config: &Config) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log));
    let filter = crm_server::mailboxes::without_imap_traces(filter);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn serve(config: Config) -> Result<()> {
    let specs = crm_server::connectors::parse(&config.connectors, &|name| std::env::var(name).ok())?;
    let clock: std::sync::Arc<dyn crm_core::time::Clock> = std::sync::Arc::new(crm_core::time::SystemClock);
    let connectors = crm_server::connectors::Connectors::build(specs, &clock)?;
    let startup_check = connectors.clone();
    tokio::spawn(async move { startup_check.check_all().await });
    let server = crm_server::start(ServerConfig {
        database_url: config.database_url.clone(),
        listen: config.listen,
        demo: config.demo,
        settings: config.settings.clone(),
        connectors,
    })
    .await?;
    if let Some(seed) = &server.demo {
        println!(
            "\nA demo tenant was created (first start).\n  tenant:  {}\n  admin:   {}\n  admin API token (shown once): {}\n  \
             agent console: {}/ (sign in as {} with the password {}, shown once)\n\n  \
             try: curl -H 'Authorization: Bearer {}' '{}/api/v1/lookup?phone=%2B33123456789'\n  \
             API docs: {}/api/v1/docs\n",
            seed.tenant,
            seed.admin,
            seed.admin_token,
            server.url(),
            crm_server::seed::DEMO_ADMIN_EMAIL,
            seed.admin_password,
            seed.admin_token,
            server.url(),
            server.url()
        );
    }
    println!("crm-server listening on {}", server.url());
    let stop = server.shutdown_handle();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = stop.send(true);
    });
    server.wait().await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
            let _ = ctrl_c.await;
            return;
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

async fn actor_of(services: &Services, args: &ActorArgs) -> Result<Actor> {
    let tenant = csv_io::parse_tenant(&args.tenant)?;
    let agent = args.agent.trim().parse().map_err(|_| anyhow::anyhow!("{:?} is not an agent id", args.agent))?;
    services.crm.operator_actor(tenant, agent).await.with_context(|| format!("no agent {agent} in tenant {tenant}"))
}

async fn import(config: &Config, file: &std::path::Path, args: &ActorArgs, on_error: Option<OnError>) -> Result<()> {
    let services = Services::open(&config.database_url, config.settings.store_options()).await?;
    let actor = actor_of(&services, args).await?;
    let open = || std::fs::File::open(file).with_context(|| format!("opening {}", file.display()));
    let (good, report) = match csv_io::validate(&services, &actor, open()?).await {
        Ok(v) => v,
        Err(ImportError::Csv(e)) => bail!("{}: {e}", file.display()),
        Err(e) => return Err(e.into()),
    };
    for bad in &report.bad {
        eprintln!("line {}: {}", bad.line, bad.reason);
    }
    let policy = match on_error {
        Some(p) => p,
        None if report.bad.is_empty() => OnError::Stop,
        None if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() => {
            eprint!(
                "{} bad row(s). Import the {} good rows and skip the bad ones? [y/N] ",
                report.bad.len(),
                good.len()
            );
            let _ = std::io::stderr().flush();
            let mut answer = String::new();
            std::io::stdin().lock().read_line(&mut answer)?;
            if answer.trim().eq_ignore_ascii_case("y") { OnError::Skip } else { OnError::Stop }
        }
        None => OnError::Stop,
    };
    let bar: Box<dyn Progress> = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(good.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} customers {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Box::new(bar)
    } else {
        Box::new(NoProgress)
    };
    match csv_io::import_customers(&services, &actor, open()?, policy, bar.as_ref()).await {
        Ok(r) => {
            eprintln!("imported {} of {} rows ({} skipped)", r.imported, r.rows, r.bad.len());
            Ok(())
        }
        Err(ImportError::Refused(r)) => {
            bail!("{} bad row(s): nothing was imported (use --on-error skip to import the good rows)", r.bad.len())
        }
        Err(e) => Err(e.into()),
    }
}

/// `search reindex`: this replica's index rebuilt from the database, with a progress bar
/// on a terminal (a line every 10,000 documents otherwise).
async fn reindex(config: &Config) -> Result<()> {
    let settings = &config.settings.search;
    if !settings.enabled {
        bail!("the search engine is disabled ([search] enabled = false)");
    }
    if settings.dir.is_none() && crm_server::search::default_dir(&config.database_url).is_none() {
        bail!("no [search] dir: this server keeps its index in memory and rebuilds it at each start");
    }
    let services = Services::open(&config.database_url, config.settings.store_options()).await?;
    let crm = settings.wire(&services.crm, &config.database_url).map_err(anyhow::Error::msg)?;
    let started = std::time::Instant::now();
    let terminal = std::io::stderr().is_terminal();
    let bar = indicatif::ProgressBar::new_spinner();
    if terminal {
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos} documents {per_sec} {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let last_line = std::sync::atomic::AtomicU64::new(0);
    let progress = |n: u64| {
        bar.set_position(n);
        if !terminal && n / 10_000 > last_line.load(std::sync::atomic::Ordering::Relaxed) / 10_000 {
            last_line.store(n, std::sync::atomic::Ordering::Relaxed);
            eprintln!("{n} documents indexed");
        }
    };
    let n = crm.rebuild_search_index(&progress).await?;
    bar.finish_and_clear();
    println!("{n} documents indexed in {:.1} s", started.elapsed().as_secs_f64());
    services.close().await;
    Ok(())
}
