//! `wirepad cert new`: a certificate and its key for `--cert`/`--key`, self-signed or signed by a small CA made
//! with it (`--ca-out`), either of which clients take as `--ca`.
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::note;
use crate::net::tls::{TlsError, write_new_cert};

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Make a certificate (ECDSA P-256) and its key: PREFIX.crt and PREFIX.key (PEM), self-signed or, with
    /// --ca-out, signed by a new CA
    New(CertNewArgs),
}

#[derive(Debug, Args)]
pub struct CertNewArgs {
    /// The subject's common name
    #[arg(long, value_name = "NAME")]
    pub cn: String,
    /// A name the certificate is for (repeatable): a host name or an IP address [default: the --cn]
    #[arg(long, value_name = "NAME")]
    pub san: Vec<String>,
    /// Valid for N days from now (1 to 36500)
    #[arg(long, value_name = "N", default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub days: u32,
    /// Where to write: PREFIX.crt and PREFIX.key (the key readable by its owner only)
    #[arg(long, value_name = "PREFIX")]
    pub out: PathBuf,
    /// Also make a small CA and sign the certificate with it instead: CA_PREFIX.crt (give it to clients as --ca,
    /// so that --verify strict passes) and CA_PREFIX.key
    #[arg(long, value_name = "CA_PREFIX")]
    pub ca_out: Option<PathBuf>,
}

/// Exit 0 written, 1 a file could not be written, 2 a name rcgen refuses.
pub fn run(command: CertCommand) -> ExitCode {
    let CertCommand::New(args) = command;
    match write_new_cert(&args.cn, &args.san, args.days, &args.out, args.ca_out.as_deref()) {
        Ok(written) => {
            let (crt, info) = &written.cert;
            note(format_args!(
                "wrote {} and its key: {} for {} (sha256 {}), valid until {}",
                crt.display(),
                info.subject,
                info.san.join(", "),
                info.sha256,
                info.not_after
            ));
            if let Some((ca, ca_info)) = &written.ca {
                note(format_args!(
                    "wrote {} and its key: the CA {} that signed it; clients given --ca {} verify it strictly",
                    ca.display(),
                    ca_info.subject,
                    ca.display()
                ));
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            note(format_args!("error: {error}"));
            match error {
                TlsError::Option { .. } => ExitCode::from(2),
                TlsError::Read { .. } | TlsError::File { .. } => ExitCode::from(1),
            }
        }
    }
}
