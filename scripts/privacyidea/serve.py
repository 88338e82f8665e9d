#!/usr/bin/env python3
"""Run privacyIDEA on 127.0.0.1 with an OS-chosen port, written to PORT_FILE.

Binding to port 0 ourselves avoids the race of "find a free port, then start".
The server is werkzeug's threaded WSGI server, the same one `pi-manage run`
uses; PRIVACYIDEA_CONFIGFILE must point at pi.cfg.
"""

import os
import sys

from werkzeug.serving import make_server

from privacyidea.app import create_app


def main(port_file: str) -> None:
    app = create_app(config_name="production", silent=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_port))
    os.replace(tmp, port_file)
    server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: serve.py PORT_FILE")
    main(sys.argv[1])
