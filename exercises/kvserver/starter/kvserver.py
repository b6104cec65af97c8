"""A key-value server on a Unix stream socket (newline-delimited JSON)."""

import json
import os
import socket
import sys


def serve(sock_path: str) -> None:
    """Serve requests on a Unix socket at sock_path until a shutdown request."""
    raise NotImplementedError


if __name__ == "__main__":
    serve(sys.argv[1])
