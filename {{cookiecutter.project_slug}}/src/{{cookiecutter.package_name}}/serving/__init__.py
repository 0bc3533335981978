"""Online inference: a Flask REST service around the champion model.

``create_app`` in ``app`` builds the application; gunicorn calls it in each
worker (``make serve``), configured by ``gunicorn_conf``.
"""
