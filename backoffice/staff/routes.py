"""Every route of staff accounts (``staff.*``)."""


def includeme(config) -> None:
    config.add_route("staff.login", "/admin/login")
    config.add_route("staff.login_code", "/admin/login/code")
    config.add_route("staff.logout", "/admin/logout")
    config.add_route("staff.profile", "/admin/profile")
    config.add_route("staff.language", "/admin/profile/language")
    config.add_route("staff.sessions_end", "/admin/profile/sessions/end-others")
    config.add_route("staff.two_factor", "/admin/profile/two-factor")
    config.add_route("staff.two_factor_off", "/admin/profile/two-factor/off")
    config.add_route("staff.list", "/admin/staff")
    config.add_route("staff.require_two_factor", "/admin/staff/two-factor")
    config.add_route("staff.new", "/admin/staff/new")
    config.add_route("staff.edit", "/admin/staff/{id:\\d+}")
    config.add_route("staff.two_factor_reset", "/admin/staff/{id:\\d+}/two-factor/reset")
