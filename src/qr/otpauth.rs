//! Shortening otpauth URIs so their QR code stays small.

/// The otpauth URI with the parameters authenticator apps assume by default
/// (algorithm=SHA1, digits=6, period=30) and vendor extras no app needs to make
/// codes (e.g. privacyIDEA's creator and serial) left out: fewer bytes, a smaller
/// code that fits 80×24. The label, secret, issuer and counter are kept as they
/// were. Anything that is not an otpauth URI comes back unchanged.
pub fn short_otpauth(uri: &str) -> String {
    let Some((head, query)) = uri.split_once('?') else {
        return uri.to_owned();
    };
    if !head
        .get(..10)
        .is_some_and(|s| s.eq_ignore_ascii_case("otpauth://"))
    {
        return uri.to_owned();
    }
    let kept: Vec<&str> = query.split('&').filter(|p| keep_param(p)).collect();
    format!("{head}?{}", kept.join("&"))
}

fn keep_param(param: &str) -> bool {
    let (key, value) = param.split_once('=').unwrap_or((param, ""));
    match key.to_ascii_lowercase().as_str() {
        "secret" | "issuer" | "counter" => true,
        "algorithm" => !value.eq_ignore_ascii_case("SHA1"),
        "digits" => value != "6",
        "period" => value != "30",
        _ => false,
    }
}
