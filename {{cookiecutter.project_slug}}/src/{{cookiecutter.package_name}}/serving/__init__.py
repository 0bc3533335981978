"""Online inference: a Flask REST service around the champion model.

``create_app`` in ``app`` builds the application; ``wsgi`` is what gunicorn
serves (``make serve``), configured by ``gunicorn_conf``.
"""
