"""What the worker's mail settings say, checked without importing the worker: `afterview
worker` refuses a setting it cannot use in one line, before it loads anything else."""

from pathlib import Path

from app.core.settings import Settings
from app.delivery.mail import Mailbox, MailboxTransport, SmtpConfig, SmtpTransport, Transport

LOCAL_SENDER = Mailbox("Afterview", "afterview@localhost")


class MailNotConfigured(RuntimeError):
    """The worker has nowhere to send mail, or no sender to send it as."""


def mailbox_dir(settings: Settings) -> Path | None:
    """Where `.eml` files go when there is no SMTP: the setting, or the embedded data dir."""
    if settings.smtp_url is not None:
        return None
    if settings.mailbox_dir is not None:
        return settings.mailbox_dir.resolve()
    return (settings.data_dir / "mailbox").resolve() if settings.embedded else None


def transport_for(settings: Settings) -> Transport:
    if settings.smtp_url is not None:
        try:
            config = SmtpConfig.from_url(settings.smtp_url.get_secret_value())
        except ValueError as exc:
            raise MailNotConfigured(f"AFTERVIEW_SMTP_URL: {exc}") from None
        return SmtpTransport(config, max_connections=settings.worker_concurrency)
    directory = mailbox_dir(settings)
    if directory is None:
        raise MailNotConfigured(
            "set AFTERVIEW_SMTP_URL to send mail, or AFTERVIEW_MAILBOX_DIR to write .eml files"
        )
    return MailboxTransport(directory)


def default_sender(settings: Settings) -> Mailbox:
    """From, for agencies without a sender_email. With real SMTP it must be set explicitly."""
    if settings.mail_from:
        try:
            return Mailbox.parse(settings.mail_from)
        except ValueError as exc:
            raise MailNotConfigured(f"AFTERVIEW_MAIL_FROM: {exc}") from None
    if settings.smtp_url is not None:
        raise MailNotConfigured(
            "set AFTERVIEW_MAIL_FROM: the sender for agencies without a sender_email"
        )
    return LOCAL_SENDER


def check_mail_settings(settings: Settings) -> str:
    """Raise MailNotConfigured with a one-line reason, or describe where mail will go."""
    default_sender(settings)
    return transport_for(settings).describe()
