//! Plain mode's "Verify your identity": choose a factor, then type the code
//! or approve the push (number shown), with "choose another way" and resend.

use super::io::Io;
use crate::app::effects::Deps;
use crate::app::state::Purpose;
use crate::backend::{Challenge, SignIn};
use crate::domain::MethodKind;
use crate::secrets::SecretString;
use std::io::{BufRead, Write};

/// True once verified; false when the user gave up (or the input ended).
pub async fn run<R: BufRead, W: Write>(
    io: &mut Io<R, W>,
    deps: &Deps,
    mut challenge: Challenge,
    purpose: Purpose,
) -> anyhow::Result<bool> {
    let b = &deps.backend;
    loop {
        io.blank()?;
        io.say("Verify your identity")?;
        if challenge.options.is_empty() {
            io.say("This account has no second factor that secinfo can use here.")?;
            return Ok(false);
        }
        io.say("Choose how to confirm it is you:")?;
        let mut items: Vec<String> = challenge
            .options
            .iter()
            .map(|o| {
                let d = if challenge.default_method_id.as_deref() == Some(o.method_id.as_str()) {
                    " (default)"
                } else {
                    ""
                };
                format!("{}{d}", o.label)
            })
            .collect();
        items.push("Cancel".into());
        let Some(i) = io.choose(&items).await? else {
            return Ok(false);
        };
        let Some(option) = challenge.options.get(i).cloned() else {
            return Ok(false);
        };
        let remember = if matches!(purpose, Purpose::SignIn { .. }) && challenge.remember_days > 0 {
            let q = format!(
                "Don't ask again for {} days on this computer? Enter y or n:",
                challenge.remember_days
            );
            io.ask(&q)?
                .is_some_and(|a| a.trim().eq_ignore_ascii_case("y"))
        } else {
            false
        };
        'start: loop {
            let started = match b.start_factor(&challenge, &option.method_id).await {
                Ok(s) => s,
                Err(e) => {
                    io.say(&format!("Error: {e}"))?;
                    break 'start;
                }
            };
            let push = option.kind == MethodKind::AuthenticatorPush;
            if push {
                io.say(&format!("Approve the sign-in request on {}.", option.label))?;
                if let Some(n) = started.number {
                    io.say(&format!("Enter this number in the app: {n}"))?;
                }
            } else if let Some(to) = &started.sent_to {
                io.say(&format!("We sent a code to {to}."))?;
            }
            loop {
                let prompt = if push {
                    if deps.demo.is_some() {
                        "Press Enter once approved; type r to resend, c to choose another way, or (demo) the number to approve it on the simulated phone:"
                    } else {
                        "Press Enter once approved; type r to resend, or c to choose another way:"
                    }
                } else {
                    "Enter the code; or type r to resend, c to choose another way:"
                };
                let Some(answer) = io.ask(prompt)? else {
                    return Ok(false);
                };
                let answer = answer.trim().to_string();
                match answer.as_str() {
                    "c" => break 'start,
                    "r" => continue 'start,
                    _ => {}
                }
                let code = if push {
                    if let (Some(demo), Ok(n)) = (&deps.demo, answer.parse::<u32>()) {
                        match demo.approve(n).await {
                            Ok(()) => io.say("Approved on the simulated phone.")?,
                            Err(e) => io.say(&format!("The simulated phone says: {e}"))?,
                        }
                    }
                    None
                } else if answer.is_empty() {
                    continue;
                } else {
                    Some(SecretString::new(answer))
                };
                match b
                    .answer_factor(&challenge, &option.method_id, code.as_ref(), remember)
                    .await
                {
                    Ok(SignIn::Done { .. }) => {
                        io.say("Verified.")?;
                        return Ok(true);
                    }
                    Ok(SignIn::Pending) => io.say("Not approved yet.")?,
                    Ok(SignIn::SecondFactor(next)) => {
                        challenge = next;
                        break 'start;
                    }
                    Err(e) => io.say(&format!("Error: {e}"))?,
                }
            }
        }
    }
}
