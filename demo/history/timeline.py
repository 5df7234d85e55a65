"""The life of one planned demo order: events, routing, allocation, shipping, payment,
returns, and the stock movements that go with them."""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from inventory.models import MovementReason, StockMovement
from inventory.routing import describe_rule
from orders.models import OrderEvent, OrderStatus, PaymentStatus

S = OrderStatus
P = PaymentStatus
Kind = OrderEvent.Kind


class OrderTimeline:
    """Mixed into ``HistoryWriter``: turns a planned order into what happened to it."""

    def _timeline(self, plan):
        """What happened to the order: events, allocations, shipments, payment, stock."""
        rng = self.rng
        status, channel, lines = plan["status"], plan["channel"], plan["lines"]
        total = f"{plan['grand_total']} {plan['currency']}"
        own_actor = {
            "web": ("api_key", "api-key:web shop"),
            "pos": ("api_key", "api-key:pos terminal"),
            "api": ("api_key", "api-key:partner"),
        }.get(channel.code, ("system", f"sync:{channel.code}"))
        events = plan["events"]

        def event(at, kind, message="", frm="", to="", details=None, actor=own_actor):
            events.append(
                OrderEvent(
                    order_id=plan["pk"],
                    kind=kind,
                    from_status=frm,
                    to_status=to,
                    message=message[:500],
                    details=details or {},
                    actor_kind=actor[0],
                    actor_label=actor[1],
                    created_at=at,
                )
            )

        def move(at, line, on_hand, allocated, reason, actor, note=""):
            self._movements.append(
                StockMovement(
                    sku_id=line["entry"].sku.pk,
                    warehouse_id=line["source"][1],
                    on_hand_change=on_hand,
                    allocated_change=allocated,
                    reason=reason,
                    reference=f"order:{plan['number']}",
                    note=note,
                    actor_label=actor,
                    created_at=at,
                )
            )

        def in_warehouse(line):
            return line["source"] is not None and line["source"][0] == "warehouse"

        def done(updated, payment):
            last_event = max(e.created_at for e in events)
            plan["updated"] = min(max(updated, last_event), self.now)
            plan["payment"] = payment
            if not self.ship_movements:
                # Only open allocations are in the ledger: receive and allocate them.
                for line in lines:
                    if line["open"] and in_warehouse(line):
                        self._need(line, plan["routed_at"], line["open"])
                        move(
                            plan["routed_at"],
                            line,
                            0,
                            line["open"],
                            MovementReason.ALLOCATION,
                            own_actor[1],
                        )

        created = {
            "lines": len(lines),
            "grand_total": str(plan["grand_total"]),
            "currency": plan["currency"],
        }
        plan["routed_at"] = plan["placed"]
        if status == S.DRAFT:
            plan["external_id"], plan["placed"] = None, None
            event(
                plan["created"],
                Kind.CREATED,
                "Created by support (draft)",
                to=S.DRAFT,
                details=created,
                actor=("user", "support"),
            )
            return done(plan["created"], P.UNPAID)
        plan["external_id"] = self._external_id(channel, plan["pk"])
        event(
            plan["created"],
            Kind.CREATED,
            f"Created from {channel.name} ({plan['external_id']})",
            to=S.DRAFT,
            details=created,
        )
        event(plan["placed"], Kind.STATUS_CHANGED, frm=S.DRAFT, to=S.PENDING)
        t = plan["placed"] + timedelta(seconds=1)
        payment = P.UNPAID
        if channel.code in ("amazon", "ebay", "pos"):
            payment = P.PAID  # marketplaces and the till collect the money themselves
            event(
                t,
                Kind.PAYMENT,
                f"Paid on {channel.name}: {total}",
                details={"amount": str(plan["grand_total"])},
            )
        elif status != S.PENDING:
            payment = P.AUTHORIZED
            event(
                t,
                Kind.PAYMENT,
                f"Payment authorized: {total}",
                details={"amount": str(plan["grand_total"]), "provider": "stripe"},
            )
        if status == S.PENDING:
            return done(t, payment)
        if status == S.ON_HOLD:
            reason = plan["hold_reason"]
            if "asked" in reason:
                event(
                    t + timedelta(minutes=rng.randint(3, 200)),
                    Kind.STATUS_CHANGED,
                    f"Held: {reason}",
                    frm=S.PENDING,
                    to=S.ON_HOLD,
                    actor=("user", "support"),
                )
            else:
                event(
                    t,
                    Kind.STATUS_CHANGED,
                    f"Held by pre-fulfillment checks: {reason}",
                    frm=S.PENDING,
                    to=S.ON_HOLD,
                    actor=("system", "hold-rules"),
                )
            return done(t, payment)

        cancel_at = min(t + timedelta(hours=rng.uniform(0.2, 30)), self.now - timedelta(minutes=1))
        if status == S.CANCELLED and rng.random() < 0.5:  # before it was routed
            for line in lines:
                line["cancelled"] = line["quantity"]
            reason = rng.choice(["customer request", "payment failed", "duplicate order"])
            event(
                cancel_at,
                Kind.STATUS_CHANGED,
                f"Cancelled: {reason}",
                frm=S.PENDING,
                to=S.CANCELLED,
                actor=("user", "support"),
            )
            if payment == P.PAID:
                payment = P.REFUNDED
                event(cancel_at, Kind.PAYMENT, f"Refunded in full: {total}")
            elif payment == P.AUTHORIZED:
                payment = P.UNPAID
                event(cancel_at, Kind.PAYMENT, "Authorization voided")
            return done(cancel_at, payment)

        # Routing.
        lat = plan["location"].latitude if plan["location"] else None
        lon = plan["location"].longitude if plan["location"] else None
        picks, assignments, waiting = defaultdict(int), [], 0
        for line in lines:
            entry = line["entry"]
            if entry.out_of_stock:
                waiting += line["quantity"]
                continue
            warehouse = self._warehouse_for(entry, plan["country"], lat, lon)
            if warehouse is not None:
                line["source"] = ("warehouse", warehouse.pk)
                place = warehouse.code
            else:
                line["source"] = ("supplier", entry.dropship_supplier_id)
                place = f"supplier {entry.sku.supplier.code}"
            picks[place] += line["quantity"]
            assignments.append(
                {
                    "line": line["pk"],
                    "sku_id": entry.sku.pk,
                    "quantity": line["quantity"],
                    "warehouse_id": warehouse.pk if warehouse else None,
                    "supplier_id": None if warehouse else entry.dropship_supplier_id,
                    "warehouse": warehouse.code if warehouse else None,
                }
            )
        rule = "ship_complete" if len(picks) == 1 else "closest"
        explanation = (
            "; ".join(
                f"{units} unit(s) from {place} "
                f"({describe_rule('dropship' if place.startswith('supplier') else rule)})"
                for place, units in picks.items()
            )
            or f"No warehouse can ship any of the {waiting} units: all backordered"
        )
        if waiting and picks:
            explanation += f"; {waiting} unit(s) backordered"
        plan["routing"] = {
            "decided_by": rule if picks else "backordered",
            "explanation": explanation + ".",
            "picks": [{"warehouse": p, "units": u} for p, u in picks.items()],
            "assignments": assignments,
            "backordered": {str(ln["pk"]): ln["quantity"] for ln in lines if not ln["source"]},
        }
        plan["routed_at"] = t
        event(
            t, Kind.ROUTED, explanation + ".", details=plan["routing"], actor=("system", "routing")
        )
        for line in lines:
            if line["source"]:
                line["open"] = line["quantity"]
                if in_warehouse(line) and self.ship_movements:
                    self._need(line, t, line["quantity"])
                    move(t, line, 0, line["quantity"], MovementReason.ALLOCATION, own_actor[1])
        routed_to = S.BACKORDERED if waiting else S.ALLOCATED
        event(t, Kind.STATUS_CHANGED, frm=S.PENDING, to=routed_to, actor=("system", "routing"))
        if status == S.BACKORDERED:
            return done(t, payment)
        if status == S.ALLOCATED:
            if payment == P.AUTHORIZED and rng.random() < 0.4:
                payment = P.PAID
                event(t + timedelta(minutes=2), Kind.PAYMENT, f"Payment captured: {total}")
            return done(t + timedelta(minutes=2), payment)
        if status == S.CANCELLED:
            released = 0
            for line in lines:
                if in_warehouse(line):
                    released += line["open"]
                    if self.ship_movements:
                        move(
                            cancel_at,
                            line,
                            0,
                            -line["open"],
                            MovementReason.DEALLOCATION,
                            "support",
                        )
                line["open"], line["cancelled"] = 0, line["quantity"]
            message = "Cancelled: customer request"
            if released:
                message += f"; {released} allocated unit(s) returned to stock"
            event(
                cancel_at,
                Kind.STATUS_CHANGED,
                message,
                frm=S.ALLOCATED,
                to=S.CANCELLED,
                actor=("user", "support"),
            )
            if payment == P.PAID:
                payment = P.REFUNDED
                event(cancel_at, Kind.PAYMENT, f"Refunded in full: {total}")
            elif payment == P.AUTHORIZED:
                payment = P.UNPAID
                event(cancel_at, Kind.PAYMENT, "Authorization voided")
            return done(cancel_at, payment)

        # Shipping: everything, or (partially shipped) the first line.
        ship_at = t + timedelta(hours=rng.uniform(3, 40))
        ship_at = min(ship_at, self.now - timedelta(minutes=20))
        shipped = lines[:1] if status == S.PARTIALLY_SHIPPED else lines
        units = 0
        for line in shipped:
            line["shipped"], line["open"] = line["quantity"], 0
            units += line["quantity"]
            if in_warehouse(line) and self.ship_movements:
                move(
                    ship_at,
                    line,
                    -line["quantity"],
                    -line["quantity"],
                    MovementReason.SHIPMENT,
                    "warehouse",
                )
        tracking = self._tracking(plan["carrier"])
        shipped_to = S.PARTIALLY_SHIPPED if status == S.PARTIALLY_SHIPPED else S.SHIPPED
        event(
            ship_at,
            Kind.STATUS_CHANGED,
            f"Shipped {units} unit(s) with {plan['carrier']} {tracking}"
            if tracking
            else f"Shipped {units} unit(s)",
            frm=S.ALLOCATED,
            to=shipped_to,
            actor=("user", "warehouse"),
            details={"units": units, "tracking_number": tracking, "carrier": plan["carrier"]},
        )
        if payment != P.PAID:
            payment = P.PAID
            event(ship_at, Kind.PAYMENT, f"Payment captured: {total}")
        if status in (S.SHIPPED, S.PARTIALLY_SHIPPED):
            return done(ship_at, payment)

        delivered_at = min(ship_at + timedelta(hours=rng.uniform(18, 100)), self.now)
        event(
            delivered_at,
            Kind.STATUS_CHANGED,
            "Delivered",
            frm=S.SHIPPED,
            to=S.DELIVERED,
            actor=("system", "carrier-tracking"),
        )
        if status == S.DELIVERED:
            return done(delivered_at, payment)

        returned_at = min(delivered_at + timedelta(days=rng.uniform(4, 20)), self.now)
        returned = lines if status == S.RETURNED else lines[:1]
        units = 0
        for line in returned:
            line["returned"] = line["quantity"]
            units += line["quantity"]
            if in_warehouse(line) and self.ship_movements:
                move(
                    returned_at,
                    line,
                    line["quantity"],
                    0,
                    MovementReason.RETURN_RESTOCK,
                    "returns-desk",
                    note="Customer return, restocked",
                )
        returned_to = S.RETURNED if status == S.RETURNED else S.PARTIALLY_RETURNED
        event(
            returned_at,
            Kind.STATUS_CHANGED,
            f"Return received: {units} unit(s) restocked",
            frm=S.DELIVERED,
            to=returned_to,
            actor=("user", "warehouse"),
        )
        payment = P.REFUNDED if status == S.RETURNED else P.PARTIALLY_REFUNDED
        refund = sum((ln["line_total"] for ln in returned), Decimal(0))
        event(
            returned_at,
            Kind.PAYMENT,
            f"Refunded {refund} {plan['currency']}",
            actor=("user", "support"),
        )
        return done(returned_at, payment)
