"""A kvclass storage node in Flask: the seed's node, rewritten.

It keeps every key in memory, in a dict, and speaks kvclass's data API:

    POST   /put?key=K      body {"value": V}  ->  200 {"message": "Key-value pair stored successfully."}
    GET    /get?key=K                         ->  200 {"value": V}, or 404 {"error": "Key not found.", "key": K}
    DELETE /delete?key=K                      ->  200 {"message": "Key deleted."}, or 404 as for get
    GET    /health                            ->  200 Hi from NAME
    GET    /state?format=json                 ->  200 {"name": NAME, "data": {K: V, ...}}
    GET    /state                             ->  an HTML table of the keys, for a browser

Check it with `kvclass conform http://127.0.0.1:5000` (see docs/OWN-NODE.md).
"""

import argparse
import html
import json
import threading

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

MAX_KEY_BYTES = 1024  # a longer key is 400
MAX_BODY_BYTES = 1 << 20  # a larger /put body is 413

app = Flask(__name__)
app.config["NODE_NAME"] = "flask-node"

data = {}  # key -> value: any JSON value but null
lock = threading.Lock()  # Flask serves each request on a thread of its own


def error(status, message, **fields):
    """An error answer: JSON with an "error" field, as every kvclass node answers."""
    return jsonify(error=message, **fields), status


def key_or_error(missing):
    """The request's key, or an error answer: (key, None) or (None, answer)."""
    key = request.args.get("key", "")  # Flask decodes %XX and + for us
    if not key:
        return None, error(400, missing)
    if len(key.encode()) > MAX_KEY_BYTES:
        return None, error(400, f"The key is longer than {MAX_KEY_BYTES} bytes.")
    return key, None


@app.post("/put")
def put():
    key, err = key_or_error("Please provide key and value.")
    if err:
        return err
    raw = request.stream.read(MAX_BODY_BYTES + 1)  # never more, whatever the client sends
    if len(raw) > MAX_BODY_BYTES:
        return error(413, f"The body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        body = json.loads(raw)
    except ValueError:
        return error(400, "Malformed body: it is not JSON.")
    if not isinstance(body, dict):
        return error(400, 'Malformed body: send a JSON object like {"value": ...}.')
    value = body.get("value")
    if value is None:  # not "if not value": false, 0 and "" are values too
        return error(400, "Please provide key and value.")
    with lock:
        data[key] = value
    return jsonify(message="Key-value pair stored successfully.")


@app.get("/get")
def get():
    key, err = key_or_error("Please provide key.")
    if err:
        return err
    with lock:
        value = data.get(key)
    if value is None:
        return error(404, "Key not found.", key=key)
    return jsonify(value=value)


@app.delete("/delete")
def delete():
    key, err = key_or_error("Please provide key.")
    if err:
        return err
    with lock:
        value = data.pop(key, None)
    if value is None:
        return error(404, "Key not found.", key=key)
    return jsonify(message="Key deleted.")


@app.get("/health")
def health():
    return f"Hi from {app.config['NODE_NAME']}", 200, {"Content-Type": "text/plain; charset=utf-8"}


@app.get("/state")
def state():
    with lock:
        snapshot = dict(data)
    name = app.config["NODE_NAME"]
    if request.args.get("format") == "json":
        return jsonify(name=name, data=snapshot)
    # Escape what students stored: a value may be "<script>".
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(json.dumps(v, ensure_ascii=False))}</td></tr>"
        for k, v in snapshot.items()
    )
    return f"<!doctype html><meta charset=utf-8><title>{html.escape(name)}</title><h1>Data on {html.escape(name)}</h1><table>{rows}</table>"


@app.errorhandler(HTTPException)
def http_error(e):
    """Flask's own errors (404, 405, 413, ...) as JSON too, keeping their headers (Allow)."""
    response = e.get_response()
    response.data = json.dumps({"error": e.description})
    response.content_type = "application/json"
    return response


def main():
    parser = argparse.ArgumentParser(description="A kvclass storage node in Flask.")
    parser.add_argument("-n", "--name", "--hostname", help="the node's name (default flask-PORT)")
    parser.add_argument("-p", "--port", type=int, default=5000, help="port to listen on (default 5000)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for a LAN)")
    args = parser.parse_args()
    app.config["NODE_NAME"] = args.name or f"flask-{args.port}"
    app.run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
