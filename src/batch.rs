//! `morcc create-cards`: a card group's print run, with the printer's file.

use std::fs::File;
use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use morcc_adapters::admin::batch::{self, BatchError, BatchRequest, CreatedCard, Numbers};
use morcc_adapters::{AdapterError, Database};
use morcc_domain::{CardGroupId, Money};

use crate::cli::CreateCardsArgs;
use crate::error::AppError;

/// Plans the batch (changing nothing), opens the printer's file, then creates the cards chunk
/// by chunk, each chunk's cards written to the file once they are committed. Prints "created
/// C of T": numbers held by a card already are passed over, so C may be below T, 0 too.
pub fn create_cards(database: &Database, args: &CreateCardsArgs) -> Result<(), AppError> {
    let numbers = match (args.count, &args.from, &args.till) {
        (Some(count), None, None) => Numbers::Count(count),
        (None, Some(from), Some(till)) => Numbers::Range {
            from: from.clone(),
            till: till.clone(),
        },
        _ => {
            return Err(AppError::Invalid(
                "name --count N, or --from NUMBER and --till NUMBER".into(),
            ))
        }
    };
    let request = BatchRequest {
        cardgroup_id: CardGroupId(args.cardgroup_id),
        numbers,
        balance: args.balance.as_deref().map(balance).transpose()?,
    };
    if let Some(path) = &args.out {
        if path.exists() {
            return Err(AppError::Invalid(format!(
                "{} exists: name a new file (it would hold PINs of two batches)",
                path.display()
            )));
        }
    }
    let batch = batch::plan(database, &request).map_err(|error| match error {
        BatchError::Invalid(why) => AppError::Invalid(why),
        BatchError::NoGroup(_) => AppError::Invalid(error.to_string()),
        BatchError::Store(error) => AppError::Database(AdapterError::Store(error)),
    })?;
    let mut out = args.out.as_deref().map(PrinterFile::create).transpose()?;
    if !batch.balance().is_positive() {
        eprintln!(
            "morcc: note: a balance of 0: these cards are not for sale (not free) until topped up"
        );
    }
    let progress = progress_bar(batch.total());
    let started = Instant::now();
    let outcome = batch::create(database, &batch, |chunk| {
        if let Some(out) = &mut out {
            out.write(chunk.created)?;
        }
        progress.set_position(u64::try_from(chunk.tried).unwrap_or(u64::MAX));
        Ok(())
    });
    progress.finish_and_clear();
    let created = match &outcome {
        Ok(done) => done.created,
        Err(stopped) => stopped.created,
    };
    let (written, unsynced) = match out.map(|out| out.finish(created)) {
        Some(Ok(path)) => (path, None),
        Some(Err(error)) => (None, Some(error)),
        None => (None, None),
    };
    let done = outcome.map_err(|stopped| {
        let file = match (&written, &unsynced) {
            (Some(path), _) => format!("; the cards created are in {}", path.display()),
            (None, Some(error)) => format!("; the printer's file: {error}"),
            (None, None) => String::new(),
        };
        AppError::Invalid(format!("{stopped}{file}"))
    })?;
    if let Some(error) = unsynced {
        return Err(AppError::Invalid(format!(
            "created {} of {} cards, but the printer's file: {error}",
            done.created, done.total
        )));
    }
    let (first, last) = batch.bounds().unwrap_or_default();
    println!(
        "created {} of {} cards in card group {} (numbers {first} to {last}, balance {}) in {:.1} s",
        done.created,
        done.total,
        batch.group().id,
        batch.balance().plain(),
        started.elapsed().as_secs_f64()
    );
    if done.created < done.total {
        println!(
            "{} numbers were held by cards already and passed over",
            done.total - done.created
        );
    }
    match (written, &args.out) {
        (Some(path), _) => println!("numbers and PINs written to {}", path.display()),
        (None, Some(path)) => println!("no card created: {} not written", path.display()),
        (None, None) => {}
    }
    Ok(())
}

/// `--balance`: a plain decimal (digits, optionally a point and digits; at most 15 of each),
/// taken exactly.
fn balance(text: &str) -> Result<Money, AppError> {
    let refused = || {
        AppError::Invalid(format!(
            "not a balance: {text:?} (a plain decimal such as 10 or 12.50, not negative, at most 15 digits before and after the point)"
        ))
    };
    if text.is_empty() {
        return Err(refused());
    }
    Money::parse_amount(text).map_err(|_| refused())
}

/// A bar on standard error while it is a terminal; nothing otherwise (a script, a log).
fn progress_bar(total: usize) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(
        Some(u64::try_from(total).unwrap_or(u64::MAX)),
        ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} numbers tried, {eta} left")
    {
        bar.set_style(style);
    }
    bar
}

/// The printer's CSV file: `number,pin,balance`, created new with mode 0600 (it holds PINs),
/// one chunk's cards appended and flushed at a time.
struct PrinterFile {
    path: std::path::PathBuf,
    writer: csv::Writer<File>,
}

impl PrinterFile {
    fn create(path: &Path) -> Result<PrinterFile, AppError> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(path).map_err(|error| {
            AppError::Invalid(format!("cannot create {}: {error}", path.display()))
        })?;
        let mut printer = PrinterFile {
            path: path.to_owned(),
            writer: csv::Writer::from_writer(file),
        };
        if let Err(error) = printer.write_header() {
            let _ = std::fs::remove_file(path);
            return Err(AppError::Invalid(error));
        }
        Ok(printer)
    }

    fn write_header(&mut self) -> Result<(), String> {
        self.writer
            .write_record(["number", "pin", "balance"])
            .map_err(|error| self.cannot_write(&error))?;
        self.writer
            .flush()
            .map_err(|error| self.cannot_write(&error))
    }

    /// Appends a committed chunk's cards and flushes them to the file.
    fn write(&mut self, cards: &[CreatedCard]) -> Result<(), String> {
        for card in cards {
            self.writer
                .write_record([
                    card.number.as_str(),
                    card.pin.expose(),
                    card.balance.plain().as_str(),
                ])
                .map_err(|error| self.cannot_write(&error))?;
        }
        self.writer
            .flush()
            .map_err(|error| self.cannot_write(&error))
    }

    /// Syncs the file to disk and names it; a batch that created no card leaves no file.
    fn finish(mut self, created: usize) -> Result<Option<std::path::PathBuf>, AppError> {
        if created == 0 {
            drop(self.writer);
            std::fs::remove_file(&self.path)?;
            return Ok(None);
        }
        self.writer.flush()?;
        self.writer.get_ref().sync_all()?;
        Ok(Some(self.path))
    }

    fn cannot_write(&self, error: &dyn std::fmt::Display) -> String {
        format!("cannot write {}: {error}", self.path.display())
    }
}
