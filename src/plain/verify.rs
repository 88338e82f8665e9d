//! Plain mode's "Verify your identity" (the shared second-factor journey),
//! and plain mode's way of asking a journey's questions.

use super::io::Io;
use crate::app::effects::Deps;
use crate::app::state::Purpose;
use crate::backend::{BackendError, Challenge, SignIn};
use crate::journeys::Asker;
use crate::journeys::second_factor::{self, Remember};
use crate::secrets::SecretString;
use std::io::{BufRead, Write};

/// True once verified; false when the user gave up (or the input ended).
/// The journey is `journeys::second_factor`; this only frames it.
pub async fn run<R: BufRead, W: Write>(
    io: &mut Io<R, W>,
    deps: &Deps,
    challenge: Challenge,
    purpose: Purpose,
) -> anyhow::Result<bool> {
    io.blank()?;
    let remember = match purpose {
        Purpose::SignIn { .. } => Remember::Ask,
        Purpose::StepUp => Remember::No,
    };
    match second_factor::verify(&*deps.backend, io, challenge, remember).await {
        Ok(Some(SignIn::Done { .. })) => Ok(true),
        Ok(Some(_)) => {
            io.say("The server did not finish the sign-in; start again.")?;
            Ok(false)
        }
        Ok(None) => Ok(false),
        Err(e) => match e.downcast::<BackendError>() {
            Ok(refused) => {
                io.say(&format!("Error: {refused}"))?;
                Ok(false)
            }
            Err(other) => Err(other),
        },
    }
}

impl<R: BufRead, W: Write> Asker for Io<R, W> {
    type Error = anyhow::Error;

    fn say(&mut self, line: &str) -> anyhow::Result<()> {
        Io::say(self, line)
    }

    fn choose(
        &mut self,
        question: &str,
        items: &[String],
        _default: Option<usize>,
    ) -> anyhow::Result<Option<usize>> {
        Io::say(self, question)?;
        let mut with_cancel = items.to_vec();
        with_cancel.push("Cancel".into());
        Ok(Io::choose(self, &with_cancel)?.filter(|&i| i < items.len()))
    }

    fn code(&mut self, prompt: &str) -> anyhow::Result<Option<SecretString>> {
        self.ask_code(prompt)
    }

    fn text(&mut self, prompt: &str) -> anyhow::Result<Option<String>> {
        self.ask(prompt)
    }

    fn yes(&mut self, question: &str) -> anyhow::Result<bool> {
        Ok(self
            .ask(&format!("{question} Enter y or n:"))?
            .is_some_and(|a| a.trim().eq_ignore_ascii_case("y")))
    }

    fn typed_name(&mut self, name: &str) -> anyhow::Result<bool> {
        self.confirm_word(name)
    }

    fn simulated_phone(
        &self,
    ) -> Option<std::sync::Arc<dyn crate::journeys::asker::SimulatedPhone>> {
        self.phone.clone()
    }
}
