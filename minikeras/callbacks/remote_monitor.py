"""RemoteMonitor: post each epoch's logs to a web server (``keras.callbacks.RemoteMonitor``).

At every epoch end it sends ``{"epoch": epoch, **logs}`` to ``root + path`` with an HTTP POST:
as a form field ``field=<the JSON text>`` by default, or as a JSON body with
``send_as_json=True``. Keras uses the ``requests`` library; minikeras sends the same request
with ``urllib`` from the standard library.
"""

import json
import warnings

import numpy as np

from minikeras.callbacks.callback import Callback


class RemoteMonitor(Callback):
    """``RemoteMonitor(root='http://localhost:9000', path='/publish/epoch/end/', field='data',
    headers=None, send_as_json=False)``.

    A server that cannot be reached (or, with ``send_as_json``, logs that are not valid JSON,
    such as a NaN loss) gives a warning, not an error: training goes on. As with ``requests``,
    an HTTP error status from the server is not reported.
    """

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data",
                 headers=None, send_as_json=False):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def on_epoch_end(self, epoch, logs=None):
        import urllib.parse  # loaded here: urllib.request brings ssl and http (20 ms)
        import urllib.request

        logs = logs or {}
        send = {"epoch": epoch}
        for k, v in logs.items():
            # NumPy scalars and arrays are not JSON types: send their Python value
            send[k] = v.item() if isinstance(v, np.ndarray | np.generic) else v
        try:
            if self.send_as_json:
                body = json.dumps(send, allow_nan=False).encode("utf-8")  # what requests does
                content_type = "application/json"
            else:
                body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("utf-8")
                content_type = "application/x-www-form-urlencoded"
            headers = dict(self.headers or {})
            if not any(key.lower() == "content-type" for key in headers):
                headers["Content-Type"] = content_type
            request = urllib.request.Request(self.root + self.path, data=body, headers=headers,
                                             method="POST")
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
        except urllib.error.HTTPError:
            pass  # the server answered (with an error status): requests does not raise either
        except (OSError, ValueError):  # URLError is an OSError; ValueError: NaN in JSON, bad URL
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}",
                          stacklevel=2)
