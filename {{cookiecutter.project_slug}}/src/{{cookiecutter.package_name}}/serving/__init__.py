"""Online inference: a Flask REST service around the champion model.

``create_app`` in ``app`` builds the Flask application; ``create_asgi_app`` wraps
it so gunicorn's asyncio workers serve it with requests read whole (``asgi``).
gunicorn calls that in each worker (``make serve``), configured by ``gunicorn_conf``.
"""
