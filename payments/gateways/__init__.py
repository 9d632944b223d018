"""Built-in gateways, one independent module each (none imports another)."""
