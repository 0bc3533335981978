"""The WSGI application gunicorn serves (``make serve``).

Each worker loads the model in the background as it starts, so ``/health``
answers at once and ``/ready`` turns 200 when the model is in memory.
"""

from __future__ import annotations

from .app import create_app

app = create_app(load="background")
