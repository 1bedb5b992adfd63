"""The web service put together: ``create_app`` (in ``factory``) mounts the API and the
patient's page, builds the heavy objects in its lifespan and wraps every request in the limits
and headers of ``app.api``.
"""
