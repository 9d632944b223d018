"""Packaging for the back-office service: one database per store."""

from setuptools import find_packages, setup

requires = [
    "alembic>=1.13",
    "argon2-cffi>=23.1",
    "babel>=2.14",
    "celery[redis]>=5.3",
    "click>=8.1",
    "cryptography>=42",
    "plaster_pastedeploy>=1.0",
    "pymysql>=1.1",
    "pyramid>=2.0",
    "pyramid_jinja2>=2.10",
    "pyramid_tm>=2.5",
    "sqlalchemy>=2.0.25",
    "transaction>=4.0",
    "waitress>=3.0",
    "zope.sqlalchemy>=3.1",
]

tests_require = [
    "import-linter>=2.0",
    "openapi-schema-validator>=0.6",
    "openapi-spec-validator>=0.7",
    "pytest>=8.0",
    "pytest-xdist>=3.5",
    "ruff>=0.17,<0.18",  # the formatter's style changes between minor versions
    "schemathesis>=4.0",
    "selenium>=4.15",
    "webtest>=3.0",
]

setup(
    name="backoffice",
    version="0.1.0",
    description="Back-office for online stores, one MySQL/MariaDB database per store",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.11",
    packages=find_packages(
        include=["backoffice*", "tenancy*", "payments*", "storefront*", "migrations*"]
    ),
    include_package_data=True,
    zip_safe=False,
    install_requires=requires,
    extras_require={"test": tests_require},
    entry_points={
        "paste.app_factory": ["main = backoffice:main"],
        "console_scripts": ["backoffice = backoffice.cli:cli"],
        # The gateway conformance kit, for gateway distributions' own tests.
        "pytest11": ["backoffice_gateways = payments.testing.conformance"],
        # Gateways ship as entry points so a third-party package can add one.
        "backoffice.payment_gateways": [
            "manual = payments.gateways.manual:ManualGateway",
            "cod = payments.gateways.cod:CashOnDeliveryGateway",
            "sandbox = payments.gateways.sandbox:SandboxGateway",
            "robokassa = payments.gateways.robokassa:RobokassaGateway",
            "yookassa = payments.gateways.yookassa:YooKassaGateway",
            "paypal = payments.gateways.paypal:PayPalGateway",
            "stripe = payments.gateways.stripe:StripeGateway",
            "skrill = payments.gateways.skrill:SkrillGateway",
            "twocheckout = payments.gateways.twocheckout:TwoCheckoutGateway",
            "bluesnap = payments.gateways.bluesnap:BlueSnapGateway",
        ],
    },
)
