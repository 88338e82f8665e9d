//! The simulated authenticator phone (in progress).
