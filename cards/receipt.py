"""The receipt (收据) as a PDF: a pure drawing of the figures it is given, on A5, in the font that comes
with the install (Noto Sans SC, from the `pylopdf-fonts-zh-cn` package), so it prints the same on any
machine. Drawn in a thread, never inside a database transaction (workflow/receipts.py)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pylopdf_fonts_zh_cn


@dataclass(frozen=True)
class ReceiptLine:
    product: str
    room: str
    quantity: int
    unit_price: Decimal | None
    amount: Decimal | None


@dataclass(frozen=True)
class Receipt:
    number: str  # the receipt's own number
    company: str
    order_number: str
    customer_name: str  # never the phone
    lines: list[ReceiptLine]
    contract: Decimal
    paid: Decimal  # every standing payment
    outstanding: Decimal
    day: date
    # The payment this receipt is for (None: the whole order).
    payment_amount: Decimal | None = None
    payment_text: str = ""


def money(value: Decimal | None) -> str:
    return "—" if value is None else f"¥{value:,.2f}"


def draw_receipt(r: Receipt) -> bytes:
    from fpdf import FPDF  # here, not at the top: fpdf2 and fontTools are 0.3 s of every process's start-up

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # fpdf2's note on A5's corrected dimensions
        pdf = FPDF(orientation="landscape", format="A5")
    pdf.set_title(f"收据 {r.number}")
    pdf.set_creator("接力 Relay")
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_font("noto", "", str(pylopdf_fonts_zh_cn.sans_path()))
    pdf.add_page()
    width = pdf.epw
    pdf.set_font("noto", size=16)
    pdf.cell(width, 9, r.company, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("noto", size=13)
    pdf.cell(width, 8, "收  据", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("noto", size=9)
    pdf.cell(width / 2, 6, f"收据编号：{r.number}")
    pdf.cell(width / 2, 6, f"日期：{r.day:%Y-%m-%d}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(width / 2, 6, f"订单号：{r.order_number}")
    pdf.cell(width / 2, 6, f"客户：{r.customer_name}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    cols = [("产品", 0.34), ("房间", 0.18), ("数量", 0.1), ("单价", 0.19), ("金额", 0.19)]
    pdf.set_fill_color(235, 235, 235)
    for label, share in cols:
        pdf.cell(width * share, 7, label, border=1, align="C", fill=True)
    pdf.ln()
    for line in r.lines:
        cells = [line.product, line.room, str(line.quantity), money(line.unit_price), money(line.amount)]
        for (label, share), text in zip(cols, cells, strict=True):
            align = "L" if label in ("产品", "房间") else "R"
            pdf.cell(width * share, 7, text[:40], border=1, align=align)
        pdf.ln()
    pdf.ln(2)
    totals = [("合同金额", r.contract), ("已收", r.paid), ("未收", r.outstanding)]
    if r.payment_amount is not None:
        totals.insert(0, (f"本次收款（{r.payment_text}）", r.payment_amount))
    for label, value in totals:
        pdf.cell(width * 0.62, 7, label, align="R")
        pdf.cell(width * 0.38, 7, money(value), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.cell(width / 2, 7, "收款单位（盖章）：")
    pdf.cell(width / 2, 7, "经手人：", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
