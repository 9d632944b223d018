"""one order lifecycle: fulfilment apart from payment, stock movements, the outbox

Orders:
- fulfilment status ``paid`` -> ``confirmed`` (the money is the payment status's);
- fulfilment status ``refunded`` -> ``delivered`` if the order was ever shipped or
  delivered (its timeline says so), else ``cancelled``;
- an order its owner marked paid (status or payment status paid, partially or
  fully refunded) with no payment in the ledger gets one ledger row for its
  total (gateway ``manual``, reference ``migrated-<id>``), and a refunded one a
  refund row for it too, so the books say what the order said;
- then every order's payment status is worked out from the ledger (as
  ``backoffice.payments.ledger.payment_status_of`` does).
Custom flows (``store_settings.order_statuses``) lose ``paid`` and ``refunded``:
a move to ``paid`` becomes the moves ``paid`` allowed, a move to ``refunded`` goes.

Revision ID: 8o01
Revises: 8a01
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "8o01"
down_revision = "8a01"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GONE = ("paid", "refunded")


def upgrade() -> None:
    op.create_table(
        "inventory_movements",
        sa.Column("id", Id, nullable=False),
        sa.Column("product_id", Id, nullable=False),
        sa.Column("order_id", Id, nullable=True),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"],
                                name=op.f("fk_inventory_movements_product_id_products"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"],
                                name=op.f("fk_inventory_movements_order_id_orders"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_movements")),
    )
    op.create_index("ix_inventory_movements_product_at", "inventory_movements",
                    ["product_id", "created_at"], unique=False)
    op.create_index(op.f("ix_inventory_movements_order_id"), "inventory_movements",
                    ["order_id"], unique=False)
    op.create_table(
        "outbox_events",
        sa.Column("id", Id, nullable=False),
        sa.Column("uid", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("order_id", Id, nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"],
                                name=op.f("fk_outbox_events_order_id_orders"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
        sa.UniqueConstraint("uid", name=op.f("uq_outbox_events_uid")),
    )
    op.create_index(op.f("ix_outbox_events_order_id"), "outbox_events", ["order_id"],
                    unique=False)
    op.create_table(
        "outbox_cursors",
        sa.Column("consumer", sa.String(length=40), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", name=op.f("pk_outbox_cursors")),
    )
    _convert_orders()
    _convert_flows()


def _convert_orders() -> None:
    bind = op.get_bind()
    counted = (
        "SELECT 1 FROM payments p WHERE p.order_id = o.id "
        "AND p.kind = 'payment.succeeded' AND p.status = 'succeeded'"
    )
    marked_paid = (
        "(o.status IN ('paid', 'refunded') "
        "OR o.payment_status IN ('paid', 'partially_refunded', 'refunded'))"
    )
    orders = bind.execute(
        sa.text(
            f"SELECT o.id, o.total_minor, o.currency, o.status, o.payment_status FROM orders o "
            f"WHERE {marked_paid} AND o.total_minor > 0 AND NOT EXISTS ({counted})"
        )
    ).all()
    now = bind.execute(sa.text("SELECT CURRENT_TIMESTAMP")).scalar()
    for order_id, total, currency, status, payment_status in orders:
        rows = [("payment.succeeded", f"migrated-{order_id}")]
        if status == "refunded" or payment_status == "refunded":
            rows.append(("refund.succeeded", f"migrated-refund-{order_id}"))
        for kind, reference in rows:
            bind.execute(
                sa.text(
                    "INSERT INTO payments (order_id, gateway, provider_reference, kind, status,"
                    " amount_minor, currency, raw, created_at) VALUES (:o, 'manual', :r, :k,"
                    " 'succeeded', :a, :c, :raw, :now)"
                ),
                {
                    "o": order_id,
                    "r": reference,
                    "k": kind,
                    "a": total,
                    "c": currency,
                    "raw": json.dumps({"payment_reference": f"migrated-{order_id}",
                                       "migrated": True}),
                    "now": now,
                },
            )
    shipped = (
        "SELECT 1 FROM order_events e WHERE e.order_id = orders.id "
        "AND e.kind = 'status_changed' AND e.to_status IN ('shipped', 'delivered')"
    )
    bind.execute(sa.text(
        f"UPDATE orders SET status = CASE WHEN EXISTS ({shipped}) THEN 'delivered' "
        "ELSE 'cancelled' END WHERE status = 'refunded'"
    ))
    bind.execute(sa.text("UPDATE orders SET status = 'confirmed' WHERE status = 'paid'"))
    paid = (
        "(SELECT COALESCE(SUM(amount_minor), 0) FROM payments p WHERE p.order_id = orders.id "
        "AND p.kind = 'payment.succeeded' AND p.status = 'succeeded')"
    )
    refunded = (
        "(SELECT COALESCE(SUM(amount_minor), 0) FROM payments p WHERE p.order_id = orders.id "
        "AND p.kind = 'refund.succeeded' AND p.status = 'succeeded')"
    )
    bind.execute(sa.text(
        f"UPDATE orders SET payment_status = CASE WHEN {paid} <= 0 THEN 'unpaid' "
        f"WHEN {refunded} >= {paid} THEN 'refunded' "
        f"WHEN {refunded} > 0 THEN 'partially_refunded' "
        f"WHEN {paid} < total_minor THEN 'partially_paid' ELSE 'paid' END"
    ))


def convert_flow(rows: list) -> list:
    """A custom flow without ``paid`` and ``refunded``."""
    by_code = {r.get("code"): r for r in rows if isinstance(r, dict)}
    paid_next = [c for c in by_code.get("paid", {}).get("next", []) if c not in GONE]
    kept = []
    for row in rows:
        if not isinstance(row, dict) or row.get("code") in GONE:
            continue
        moves = []
        for code in row.get("next", []):
            for move in (paid_next if code == "paid" else [] if code in GONE else [code]):
                if move not in moves and move != row.get("code"):
                    moves.append(move)
        kept.append({**row, "next": moves})
    return kept


def _convert_flows() -> None:
    bind = op.get_bind()
    value = bind.execute(
        sa.text("SELECT value FROM store_settings WHERE `key` = 'order_statuses'")
        if bind.dialect.name == "mysql"
        else sa.text("SELECT value FROM store_settings WHERE key = 'order_statuses'")
    ).scalar()
    if not value:
        return
    try:
        rows = json.loads(value)
    except ValueError:
        return
    if not isinstance(rows, list):
        return
    converted = json.dumps(convert_flow(rows), ensure_ascii=False)
    bind.execute(
        sa.text(
            "UPDATE store_settings SET value = :v WHERE `key` = 'order_statuses'"
            if bind.dialect.name == "mysql"
            else "UPDATE store_settings SET value = :v WHERE key = 'order_statuses'"
        ),
        {"v": converted},
    )


def downgrade() -> None:
    # The orders' statuses stay converted: which were "paid" is not recorded.
    op.drop_table("outbox_cursors")
    op.drop_index(op.f("ix_outbox_events_order_id"), table_name="outbox_events")
    op.drop_table("outbox_events")
    op.drop_index(op.f("ix_inventory_movements_order_id"), table_name="inventory_movements")
    op.drop_index("ix_inventory_movements_product_at", table_name="inventory_movements")
    op.drop_table("inventory_movements")
