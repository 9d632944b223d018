"""What a gateway distribution needs to test itself against the back-office's rules.

* ``payments.testing.provider`` - a real HTTP server on 127.0.0.1 standing in
  for a provider (no function patched: the gateway reaches it through its
  ``api_base``-like settings, exactly as it reaches the real one);
* ``payments.testing.profile`` - ``ConformanceProfile``, what a gateway tells
  the kit: its settings, how to build a genuine and a forged notification;
* ``payments.testing.conformance`` - the pytest plugin and ``GatewayConformance``,
  the checks every gateway must pass (see docs/payments.md).

Only the standard library and pytest; nothing here touches a database.
"""
