"""All routes of the hosted checkout (``checkout.*``), per store like every page."""

CHECKOUT = "/checkout"


def includeme(config) -> None:
    config.add_route("checkout.cart", CHECKOUT)
    config.add_route("checkout.add", f"{CHECKOUT}/add")
    config.add_route("checkout.cart_post", f"{CHECKOUT}/cart")
    config.add_route("checkout.cart_token", f"{CHECKOUT}/c/{{token}}")
    config.add_route("checkout.update", f"{CHECKOUT}/update")
    config.add_route("checkout.details", f"{CHECKOUT}/details")
    config.add_route("checkout.payment", f"{CHECKOUT}/payment")
    config.add_route("checkout.review", f"{CHECKOUT}/review")
    config.add_route("checkout.place", f"{CHECKOUT}/place")
    config.add_route("checkout.order", f"{CHECKOUT}/order/{{token}}")
    config.add_route("checkout.pay", f"{CHECKOUT}/order/{{token}}/pay")
