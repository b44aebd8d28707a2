from celery import shared_task

from webhooks.services import webhook_deliveries_due, webhook_delivery_attempt


@shared_task(acks_late=True)
def webhook_deliver_task(*, delivery_id: int) -> None:
    webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task
def webhook_deliveries_due_task() -> int:
    return webhook_deliveries_due()
