#!/usr/bin/env python3
"""Configure a running privacyIDEA for secinfo's live tests, over its REST API.

Idempotent: every call creates or updates, and all tokens of the test users are
deleted first so each test run starts from the same world. Fails (exit 1) with
the server's message on the first call that does not succeed.

usage: configure.py PI_URL ADMIN_USER ADMIN_PASSWORD USER_PASSWORD ETC_DIR SMTP_PORT SMS_PORT
"""

import json
import sys
import urllib.error
import urllib.parse
import urllib.request

# Realms, their users and what the users may do. Every journey in
# tests/privacyidea_live.rs gets its own user, so tests can run in parallel
# without seeing each other's tokens or challenges.
SELF_SERVICE = ("enrollTOTP, enrollHOTP, enrollAPPLSPEC, enrollEMAIL, enrollSMS, enrollWEBAUTHN, enrollPUSH, "
                "delete, disable, enable, setdescription, serviceid_list, auditlog")
# The known secret of peggy's sign-in authenticator app (also PI_MFA_TOTP_KEY_HEX in the env file).
TOTP_KEY_HEX = "3132333435363738393031323334353637383930"
# The "locked" realm: users may look and delete, but not enroll anything or read their audit log.
LOCKED = "delete, disable, enable, setdescription"


def call(base, method, path, token=None, body=None):
    data = None
    headers = {"Accept": "application/json"}
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["PI-Authorization"] = token
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            reply = json.load(resp)
    except urllib.error.HTTPError as e:
        text = e.read().decode("utf-8", "replace")
        sys.exit(f"configure: {method} {path} failed: HTTP {e.code}: {text[:500]}")
    except urllib.error.URLError as e:
        sys.exit(f"configure: {method} {path}: cannot reach privacyIDEA: {e.reason}")
    if not reply.get("result", {}).get("status"):
        sys.exit(f"configure: {method} {path} was refused: {json.dumps(reply)[:500]}")
    return reply


def main(base, admin, admin_pw, user_pw, etc, smtp_port, sms_port):
    base = base.rstrip("/")
    tok = call(base, "POST", "/auth", body={"username": admin, "password": admin_pw})
    jwt = tok["result"]["value"]["token"]

    def c(method, path, body=None):
        return call(base, method, path, token=jwt, body=body)

    # Users: one passwd file per realm.
    c("POST", "/resolver/flatfile", {"type": "passwdresolver", "fileName": f"{etc}/users.passwd"})
    c("POST", "/resolver/lockedfile", {"type": "passwdresolver", "fileName": f"{etc}/locked.passwd"})
    c("POST", "/resolver/mfafile", {"type": "passwdresolver", "fileName": f"{etc}/mfa.passwd"})
    c("POST", "/resolver/quickfile", {"type": "passwdresolver", "fileName": f"{etc}/quick.passwd"})
    c("POST", "/realm/default", {"resolvers": "flatfile"})
    c("POST", "/realm/locked", {"resolvers": "lockedfile"})
    c("POST", "/realm/mfa", {"resolvers": "mfafile"})
    c("POST", "/realm/quick", {"resolvers": "quickfile"})
    c("POST", "/defaultrealm/default")

    # What users may do themselves (scope user) and how enrollment behaves.
    c("POST", "/policy/selfservice", {"scope": "user", "realm": "default", "active": True,
                                     "action": SELF_SERVICE})
    c("POST", "/policy/mfaservice", {"scope": "user", "realm": "mfa", "active": True,
                                    "action": SELF_SERVICE})
    c("POST", "/policy/quickservice", {"scope": "user", "realm": "quick", "active": True,
                                      "action": SELF_SERVICE})
    c("POST", "/policy/lockedservice", {"scope": "user", "realm": "locked", "active": True,
                                       "action": LOCKED})
    # Only realm "default" verifies new tokens, so the admin-made sign-in token of realm "mfa" is
    # usable at once.
    c("POST", "/policy/enrollopts", {
        "scope": "enrollment", "realm": "default", "active": True,
        "action": "verify_enrollment=totp email sms, tokenlabel={user}@{realm}, tokenissuer=secinfo-test, "
                  "webauthn_relying_party_id=localhost, webauthn_relying_party_name=secinfo-test, "
                  # Push without Firebase: the app would poll. Enough to start one in the web UI.
                  f"push_firebase_configuration=poll only, push_registration_url={base}/ttype/push"})
    # Realm "quick" enrolls tokens at once, without holding them back for a code.
    c("POST", "/policy/quickopts", {"scope": "enrollment", "realm": "quick", "active": True,
                                   "action": "tokenlabel={user}@{realm}, tokenissuer=secinfo-test"})
    # Users of realm "mfa" sign in to the API with password + second factor.
    c("POST", "/policy/mfalogin", {"scope": "webui", "realm": "mfa", "active": True,
                                  "action": "login_mode=privacyIDEA"})
    # ...and a TOTP token answers a challenge too (its PIN first, then the code).
    c("POST", "/policy/mfatotp", {"scope": "authentication", "realm": "mfa", "active": True,
                                 "action": "challenge_response=totp"})
    c("POST", "/serviceid/imap", {"description": "IMAP mail"})
    c("POST", "/serviceid/smtp", {"description": "SMTP submission"})

    # Outgoing messages go to the local sinks (sinks.py).
    c("POST", "/smtpserver/local", {"server": "127.0.0.1", "port": int(smtp_port),
                                    "sender": "privacyidea@example.com", "tls": False,
                                    "description": "secinfo test sink"})
    c("POST", "/smsgateway", {"name": "local",
                              "module": "privacyidea.lib.smsprovider.HttpSMSProvider.HttpSMSProvider",
                              "description": "secinfo test sink",
                              "option.URL": f"http://127.0.0.1:{sms_port}/sms",
                              "option.HTTP_METHOD": "POST",
                              "option.RETURN_SUCCESS": "OK",
                              "option.CHECK_SSL": "no",
                              "option.phone": "{phone}",
                              "option.text": "{otp}"})
    c("POST", "/system/setConfig", {"email.identifier": "local", "sms.identifier": "local"})

    # Start every run from the same world: no tokens left from the last one.
    while True:
        tokens = c("GET", "/token/?pagesize=100")["result"]["value"]["tokens"]
        if not tokens:
            break
        for t in tokens:
            c("DELETE", "/token/" + urllib.parse.quote(t["serial"]))

    # The user of realm "mfa" has an email token whose PIN is their password:
    # signing in sends a code to the SMTP sink.
    c("POST", "/token/init", {"type": "email", "user": "trent", "realm": "mfa", "pin": user_pw,
                              "email": "trent@example.com", "description": "sign-in email",
                              "genkey": 1, "serial": "PIEMTRENT"})
    # peggy has an authenticator app with a secret the tests know (TOTP_KEY_HEX).
    c("POST", "/token/init", {"type": "totp", "user": "peggy", "realm": "mfa", "pin": user_pw,
                              "otpkey": TOTP_KEY_HEX, "description": "sign-in app",
                              "serial": "PITOTPPEGGY"})


if __name__ == "__main__":
    if len(sys.argv) != 8:
        sys.exit(__doc__)
    main(*sys.argv[1:])
