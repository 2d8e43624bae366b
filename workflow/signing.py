"""The customer's signature (客户签字): a signed, expiring link for one order, usable without an account."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageStat, UnidentifiedImageError
from tortoise.transactions import in_transaction

from infra.runtime import runtime
from infra.security import Signer
from models import AttachmentCategory, Order, Signature, Staff
from workflow import notify
from workflow.attachments import attach
from workflow.errors import Conflict, Invalid
from workflow.lifecycle import apply
from workflow.order_lifecycle import ORDER

MAX_SIGNATURE_BYTES = 2 * 1024 * 1024
MAX_SIGNATURE_PIXELS = 4_000_000  # a 1440-px-wide phone at 3x is about 3 Mpx


def _signer() -> Signer:
    return Signer(runtime().config.security.secret_key, "customer-signature")


def signing_token(order: Order) -> str:
    return _signer().dumps({"o": order.id, "n": order.number})


def signing_url(order: Order) -> str:
    return runtime().links.h5(f"/sign/{signing_token(order)}")


async def signing_link_for(*, actor: Staff, order: Order) -> str:
    """The customer's link, for the member who may show it (the installer who did the job, or sales)."""
    await ORDER.check(ORDER["share_signing"], actor, order)
    return signing_url(order)


@dataclass(frozen=True)
class LinkProblem(Exception):
    title: str
    message: str


async def order_for_link(token: str) -> Order:
    """The order a signing link is for; LinkProblem with a page's worth of text if it is not valid."""
    max_age = runtime().config.security.sign_link_days * 86400
    value = _signer().loads(token, max_age)
    if value is None:
        # itsdangerous tells expired from forged only by trying without the age limit.
        if _signer().loads(token, 10**9) is not None:
            raise LinkProblem("链接已过期", "签字链接已过期，请联系安装师傅或销售重新发送。")
        raise LinkProblem("链接无效", "这个签字链接无效，请向安装师傅或销售索取正确的链接。")
    if not isinstance(value, dict):
        raise LinkProblem("链接无效", "这个签字链接无效，请向安装师傅或销售索取正确的链接。")
    order = await Order.get_or_none(id=value.get("o"), number=value.get("n"))
    if order is None:
        raise LinkProblem("链接无效", "订单不存在。")
    return order


def check_signature_image(data: bytes) -> None:
    """A PNG from the signing canvas with real strokes on it."""
    if len(data) > MAX_SIGNATURE_BYTES:
        raise Invalid("签名图片太大")
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format != "PNG":
                raise Invalid("签名格式不正确，请重新签字")
            # The canvas is a phone screen: a larger image is not a signature, and is refused undecoded.
            if img.size[0] * img.size[1] > MAX_SIGNATURE_PIXELS:
                raise Invalid("签名图片尺寸不正确，请重新签字")
            img.load()
            gray = img.convert("LA") if img.mode in ("RGBA", "LA", "P") else img.convert("L")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise Invalid("签名格式不正确，请重新签字") from exc
    # Ink is what is opaque and dark; a blank canvas has none.
    if gray.mode == "LA":
        alpha = gray.getchannel("A").point(lambda a: 255 if a > 32 else 0)
        inked = ImageStat.Stat(alpha).mean[0] / 255
    else:
        dark = gray.point(lambda v: 255 if v < 128 else 0)
        inked = ImageStat.Stat(dark).mean[0] / 255
    if inked < 0.002:
        raise Invalid("请先在方框内手写签名")


async def submit_signature(*, token: str, png: bytes, ip: str, user_agent: str) -> Signature:
    order = await order_for_link(token)
    step = ORDER["sign"]
    if await Signature.filter(order_id=order.id).exists():
        raise Conflict("这个订单已经签过字了")
    try:
        await ORDER.check(step, None, order)
    except Conflict as refused:
        raise Conflict(f"{refused.message}，暂不能签字", refused.short) from None
    await runtime().files.decode(check_signature_image, png)  # in a thread, a few at a time
    stored = await runtime().files.put_image(png)
    async with in_transaction():
        try:
            await apply(step, actor=None, order=order)
        except Conflict:
            raise Conflict("这个订单已经签过字了") from None
        image = await attach(
            order, stored, category=AttachmentCategory.SIGNATURE, uploader=None, filename="客户签字.png"
        )
        signature = await Signature.create(order=order, attachment=image, ip=ip[:64], user_agent=user_agent[:255])
        await notify.signed(order)
    return signature


async def signature_of(order: Order) -> Signature | None:
    signature = await Signature.get_or_none(order_id=order.id)
    if signature is None:
        return None
    await signature.fetch_related("attachment")
    return signature
