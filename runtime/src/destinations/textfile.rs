//! (being written) The textfile destination.

use crate::error::PushError;
use crate::push::lane::AnyLane;
use crate::settings::checked::PushSettings;

/// The lane of this destination, when it is set; an error names the setting that makes it
/// unusable.
pub(crate) fn build(
    settings: &PushSettings,
    _job: &str,
    _problems: &mut Vec<String>,
) -> Option<Result<Box<dyn AnyLane>, PushError>> {
    let _ = settings.textfile.as_ref()?;
    None
}
