"""Put this directory on PYTHONPATH of a subprocess to forbid it the network as well."""

from tests.no_network import install

install()
