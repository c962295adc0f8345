"""The Mutation type: which mutation runs which resolver (api.graphql.agreements and
api.graphql.people hold them), in the order the schema lists them."""

from __future__ import annotations

import strawberry

from api.graphql.agreements import mutations as writes
from api.graphql.agreements.mutations import AgreementPayload
from api.graphql.directory import mutations as directory_writes
from api.graphql.directory.types import DeactivationWavePayload
from api.graphql.people import mutations as people_writes
from api.graphql.people.mutations import (
    ErasePersonPayload,
    PersonActionPayload,
    UpsertPeoplePayload,
)
from api.graphql.webhooks import mutations as webhook_writes
from api.graphql.webhooks.mutations import RedeliverWebhooksPayload, WebhookSubscriptionPayload


@strawberry.type
class Mutation:
    propose_agreement: AgreementPayload = strawberry.mutation(resolver=writes.propose_agreement)
    revise_proposal: AgreementPayload = strawberry.mutation(resolver=writes.revise_proposal)
    request_changes: AgreementPayload = strawberry.mutation(resolver=writes.request_changes)
    approve_agreement: AgreementPayload = strawberry.mutation(resolver=writes.approve_agreement)
    reject_agreement: AgreementPayload = strawberry.mutation(resolver=writes.reject_agreement)
    set_guardrails: AgreementPayload = strawberry.mutation(resolver=writes.set_guardrails)
    add_adjustment: AgreementPayload = strawberry.mutation(resolver=writes.add_adjustment)
    reallocate_task: AgreementPayload = strawberry.mutation(resolver=writes.reallocate_task)
    record_review: AgreementPayload = strawberry.mutation(resolver=writes.record_review)
    record_artifact: AgreementPayload = strawberry.mutation(resolver=writes.record_artifact)
    set_sketch: AgreementPayload = strawberry.mutation(resolver=writes.set_sketch)
    revert_change: AgreementPayload = strawberry.mutation(resolver=writes.revert_change)
    revert_to_version: AgreementPayload = strawberry.mutation(resolver=writes.revert_to_version)
    pause_agreement: AgreementPayload = strawberry.mutation(resolver=writes.pause_agreement)
    resume_agreement: AgreementPayload = strawberry.mutation(resolver=writes.resume_agreement)
    complete_agreement: AgreementPayload = strawberry.mutation(resolver=writes.complete_agreement)
    withdraw_agreement: AgreementPayload = strawberry.mutation(resolver=writes.withdraw_agreement)
    upsert_people: UpsertPeoplePayload = strawberry.mutation(resolver=people_writes.upsert_people)
    confirm_deactivations: DeactivationWavePayload = strawberry.mutation(
        resolver=directory_writes.confirm_deactivations
    )
    dismiss_deactivations: DeactivationWavePayload = strawberry.mutation(
        resolver=directory_writes.dismiss_deactivations
    )
    place_legal_hold: PersonActionPayload = strawberry.mutation(
        resolver=people_writes.place_legal_hold
    )
    lift_legal_hold: PersonActionPayload = strawberry.mutation(
        resolver=people_writes.lift_legal_hold
    )
    erase_person: ErasePersonPayload = strawberry.mutation(resolver=people_writes.erase_person)
    create_webhook_subscription: WebhookSubscriptionPayload = strawberry.mutation(
        resolver=webhook_writes.create_webhook_subscription
    )
    pause_webhook_subscription: WebhookSubscriptionPayload = strawberry.mutation(
        resolver=webhook_writes.pause_webhook_subscription
    )
    resume_webhook_subscription: WebhookSubscriptionPayload = strawberry.mutation(
        resolver=webhook_writes.resume_webhook_subscription
    )
    rotate_webhook_secret: WebhookSubscriptionPayload = strawberry.mutation(
        resolver=webhook_writes.rotate_webhook_secret
    )
    delete_webhook_subscription: WebhookSubscriptionPayload = strawberry.mutation(
        resolver=webhook_writes.delete_webhook_subscription
    )
    redeliver_webhooks: RedeliverWebhooksPayload = strawberry.mutation(
        resolver=webhook_writes.redeliver_webhooks
    )
