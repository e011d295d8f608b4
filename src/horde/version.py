"""horde's version, in a module of its own at the bottom of the layers.

Everything that needs the version (the HTTP client's User-Agent, the CLI, the distributed
handshake, the reports) imports it from here, so that none of them has to import the package's
``__init__`` and with it the whole scenario API.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
