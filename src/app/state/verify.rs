//! The state of "Verify your identity", shared by sign-in and step-up.

use crate::app::state::{Loadable, ReqId};
use crate::backend::{Challenge, FactorStarted};
use crate::domain::{FactorOption, MethodKind};
use crate::secrets::SecretString;

#[derive(Clone, Debug, PartialEq)]
pub enum Purpose {
    SignIn { username: String },
    StepUp,
}

/// "Verify your identity": shared by sign-in and step-up.
#[derive(Clone, Debug, PartialEq)]
pub struct Verify {
    pub challenge: Challenge,
    pub purpose: Purpose,
    pub step: VerifyStep,
}

#[derive(Clone, Debug, PartialEq)]
pub enum VerifyStep {
    Choose { focus: usize, error: Option<String> },
    Factor(Factor),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Factor {
    pub option: FactorOption,
    pub started: Loadable<FactorStarted>,
    pub code: SecretString,
    pub remember: bool,
    pub focus: usize,
    pub error: Option<String>,
    /// A code check or push poll in flight.
    pub answering: Option<ReqId>,
    /// Wrong codes so far, and push polls so far: both are limited (`journeys::rules`).
    pub wrong_codes: u32,
    pub polls: u32,
}

impl Factor {
    pub fn new(option: FactorOption, id: ReqId) -> Self {
        Self {
            option,
            started: Loadable::Loading(id),
            code: SecretString::default(),
            remember: false,
            focus: 0,
            error: None,
            answering: None,
            wrong_codes: 0,
            polls: 0,
        }
    }
    pub fn is_push(&self) -> bool {
        self.option.kind == MethodKind::AuthenticatorPush
    }
    /// Kinds whose code the server sends (so "Resend" makes sense).
    pub fn code_is_sent(&self) -> bool {
        matches!(
            self.option.kind,
            MethodKind::Phone
                | MethodKind::AlternatePhone
                | MethodKind::OfficePhone
                | MethodKind::Email
        )
    }
}

/// The focusable things of a factor screen, top to bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactorItem {
    Code,
    Verify,
    Remember,
    Resend,
    OtherWay,
}

impl Verify {
    pub fn offers_remember(&self) -> bool {
        matches!(self.purpose, Purpose::SignIn { .. }) && self.challenge.remember_days > 0
    }
    pub fn factor_items(&self, f: &Factor) -> Vec<FactorItem> {
        let mut items = Vec::new();
        if !f.is_push() {
            items.extend([FactorItem::Code, FactorItem::Verify]);
        }
        if self.offers_remember() {
            items.push(FactorItem::Remember);
        }
        if f.is_push() || f.code_is_sent() {
            items.push(FactorItem::Resend);
        }
        if self.challenge.options.len() > 1 {
            items.push(FactorItem::OtherWay);
        }
        items
    }
}
