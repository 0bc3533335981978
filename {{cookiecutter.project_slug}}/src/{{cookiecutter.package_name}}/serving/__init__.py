"""Online inference: a Flask REST service around the champion model.

``create_app`` in ``app`` builds the Flask application; ``create_asgi_app`` wraps
it so gunicorn's asyncio workers serve it with requests read whole (``asgi``).
gunicorn calls that in each worker (``make serve``), configured by ``gunicorn_conf``,
which also starts the model process (``model_process``): it holds the model for
all workers (``model_client``) and merges their requests into model calls
(``batching``).
"""
