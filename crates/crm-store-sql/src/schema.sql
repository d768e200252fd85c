CREATE TABLE tenants (
    id {uuid} NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT tenants_pkey PRIMARY KEY (id)
);
CREATE TABLE agents (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    email_key {text} NOT NULL,
    name {text} NOT NULL,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT agents_pkey PRIMARY KEY (id),
    CONSTRAINT agents_email_key UNIQUE (tenant_id, email_key)
);
CREATE INDEX agents_by_name ON agents (tenant_id, name, id);
CREATE TABLE agent_groups (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    name {text} NOT NULL,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT agent_groups_pkey PRIMARY KEY (id),
    CONSTRAINT agent_groups_name_key UNIQUE (tenant_id, name)
);
CREATE TABLE field_definitions (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    entity {text} NOT NULL CHECK (entity IN ('customer', 'case')),
    key {text} NOT NULL,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT field_definitions_pkey PRIMARY KEY (id),
    CONSTRAINT field_definitions_key_key UNIQUE (tenant_id, entity, key)
);
CREATE TABLE dispositions (
    tenant_id {uuid} NOT NULL,
    code {text} NOT NULL,
    group_name {text},
    doc TEXT NOT NULL,
    CONSTRAINT dispositions_pkey PRIMARY KEY (tenant_id, code)
);
CREATE TABLE queues (
    tenant_id {uuid} NOT NULL,
    name {text} NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT queues_pkey PRIMARY KEY (tenant_id, name)
);
CREATE TABLE sequences (
    tenant_id {uuid} NOT NULL,
    name {text} NOT NULL CHECK (name IN ('account', 'case')),
    value BIGINT NOT NULL,
    CONSTRAINT sequences_pkey PRIMARY KEY (tenant_id, name)
);
CREATE TABLE customers (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    account_number {text} NOT NULL,
    name_sort {text} NOT NULL,
    status {text} NOT NULL CHECK (status IN ('active', 'merged')),
    last_contact_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT customers_pkey PRIMARY KEY (id),
    CONSTRAINT customers_account_number_key UNIQUE (tenant_id, account_number)
);
CREATE INDEX customers_by_name ON customers (tenant_id, name_sort, id);
CREATE TABLE customer_identities (
    tenant_id {uuid} NOT NULL,
    key {text} NOT NULL,
    customer_id {uuid} NOT NULL,
    CONSTRAINT customer_identities_lookup PRIMARY KEY (tenant_id, key, customer_id),
    CONSTRAINT customer_identities_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
){without_rowid};
CREATE INDEX customer_identities_by_customer ON customer_identities (customer_id);
CREATE TABLE customer_name_terms (
    tenant_id {uuid} NOT NULL,
    kind {text} NOT NULL CHECK (kind IN ('w', 'p')),
    term {text} NOT NULL,
    customer_id {uuid} NOT NULL,
    CONSTRAINT customer_name_terms_lookup PRIMARY KEY (tenant_id, kind, term, customer_id),
    CONSTRAINT customer_name_terms_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
){without_rowid};
CREATE INDEX customer_name_terms_by_customer ON customer_name_terms (customer_id);
CREATE TABLE customer_custom_values (
    tenant_id {uuid} NOT NULL,
    key {text} NOT NULL,
    search_text TEXT NOT NULL,
    customer_id {uuid} NOT NULL,
    CONSTRAINT customer_custom_values_pkey PRIMARY KEY (customer_id, key),
    CONSTRAINT customer_custom_values_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
){without_rowid};
CREATE TABLE relations (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    from_id {uuid} NOT NULL,
    to_id {uuid} NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT relations_pkey PRIMARY KEY (id),
    CONSTRAINT relations_from_fk FOREIGN KEY (from_id) REFERENCES customers (id) ON DELETE CASCADE,
    CONSTRAINT relations_to_fk FOREIGN KEY (to_id) REFERENCES customers (id) ON DELETE CASCADE
);
CREATE INDEX relations_by_from ON relations (from_id);
CREATE INDEX relations_by_to ON relations (to_id);
CREATE TABLE merges (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    target_id {uuid} NOT NULL,
    source_id {uuid} NOT NULL,
    undone INTEGER NOT NULL CHECK (undone IN (0, 1)),
    doc TEXT NOT NULL,
    CONSTRAINT merges_pkey PRIMARY KEY (id)
);
CREATE TABLE cases (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    number BIGINT NOT NULL,
    customer_id {uuid} NOT NULL,
    status {text} NOT NULL CHECK (status IN ('draft', 'open', 'pending', 'on_hold', 'closed')),
    visibility {text} NOT NULL CHECK (visibility IN ('public', 'internal', 'private')),
    severity {text} NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    priority {text} NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    priority_rank INTEGER NOT NULL,
    assignee_id {uuid},
    group_id {uuid},
    subject_lc TEXT NOT NULL,
    description_lc TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT cases_pkey PRIMARY KEY (id),
    CONSTRAINT cases_number_key UNIQUE (tenant_id, number),
    CONSTRAINT cases_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)
);
CREATE INDEX cases_by_customer ON cases (customer_id, updated_at);
CREATE INDEX cases_by_created ON cases (tenant_id, created_at, number);
CREATE INDEX cases_by_updated ON cases (tenant_id, updated_at, number);
CREATE INDEX cases_by_status ON cases (tenant_id, status, created_at);
CREATE INDEX cases_by_assignee ON cases (tenant_id, assignee_id, created_at);
CREATE INDEX cases_by_group ON cases (tenant_id, group_id, created_at);
CREATE TABLE case_history (
    tenant_id {uuid} NOT NULL,
    case_id {uuid} NOT NULL,
    seq BIGINT NOT NULL,
    version BIGINT NOT NULL,
    field {text} NOT NULL,
    at BIGINT NOT NULL,
    actor_id {uuid} NOT NULL,
    old_value TEXT NOT NULL,
    new_value TEXT NOT NULL,
    CONSTRAINT case_history_pkey PRIMARY KEY (case_id, seq),
    CONSTRAINT case_history_case_fk FOREIGN KEY (case_id) REFERENCES cases (id) ON DELETE CASCADE
);
CREATE TABLE follow_ups (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    case_id {uuid} NOT NULL,
    at BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT follow_ups_pkey PRIMARY KEY (id),
    CONSTRAINT follow_ups_case_fk FOREIGN KEY (case_id) REFERENCES cases (id) ON DELETE CASCADE
);
CREATE INDEX follow_ups_by_case ON follow_ups (case_id, at, id);
CREATE TABLE tasks (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    customer_id {uuid} NOT NULL,
    case_id {uuid},
    assignee_id {uuid} NOT NULL,
    status {text} NOT NULL CHECK (status IN ('planned', 'done', 'cancelled')),
    scheduled_at BIGINT NOT NULL,
    reminder_at BIGINT,
    reminder_sent_at BIGINT,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT tasks_pkey PRIMARY KEY (id),
    CONSTRAINT tasks_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id),
    CONSTRAINT tasks_case_fk FOREIGN KEY (case_id) REFERENCES cases (id) ON DELETE SET NULL
);
CREATE INDEX tasks_planned_by_customer ON tasks (customer_id, scheduled_at) WHERE status = 'planned';
CREATE INDEX tasks_planned_by_agent ON tasks (tenant_id, assignee_id, scheduled_at) WHERE status = 'planned';
CREATE INDEX tasks_due_reminders ON tasks (reminder_at) WHERE reminder_sent_at IS NULL AND reminder_at IS NOT NULL;
CREATE INDEX tasks_by_case ON tasks (case_id);
CREATE TABLE interactions (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    customer_id {uuid},
    offered_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT interactions_pkey PRIMARY KEY (id),
    CONSTRAINT interactions_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)
);
CREATE INDEX interactions_by_customer ON interactions (customer_id, offered_at, id);
CREATE TABLE outbox (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    topic {text} NOT NULL CHECK (topic IN ('notification', 'external_push')),
    status {text} NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts BIGINT NOT NULL,
    at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    last_error TEXT,
    doc TEXT NOT NULL,
    CONSTRAINT outbox_pkey PRIMARY KEY (id)
);
CREATE INDEX outbox_pending ON outbox (topic, next_attempt_at, at) WHERE status = 'pending';
CREATE INDEX outbox_by_tenant ON outbox (tenant_id, at, id);
