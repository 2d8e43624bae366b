-- relay schema: 0027_dealers; migrations sha256 c950130825bad743db0bb32da070bd9fee167fd2044d4f09e724858f2139d2e6
CREATE TABLE public.alert (
    id integer NOT NULL,
    rule character varying(32) NOT NULL,
    detail character varying(255) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    handled_at timestamp with time zone,
    handled_by_id integer,
    order_id integer NOT NULL
);
CREATE SEQUENCE public.alert_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.alert_id_seq OWNED BY public.alert.id;
CREATE TABLE public.alert_threshold (
    rule character varying(32) NOT NULL,
    threshold integer NOT NULL,
    updated_at timestamp with time zone NOT NULL
);
CREATE TABLE public.approval (
    id integer NOT NULL,
    round integer NOT NULL,
    step integer NOT NULL,
    level character varying(16) NOT NULL,
    figures jsonb NOT NULL,
    state character varying(16) NOT NULL,
    superseded boolean NOT NULL,
    decided_at timestamp with time zone,
    reason character varying(255) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    decided_by_id integer,
    order_id integer NOT NULL,
    requested_by_id integer,
    unit_id integer NOT NULL
);
COMMENT ON COLUMN public.approval.state IS 'PENDING: pending\nAPPROVED: approved\nREJECTED: rejected';
CREATE SEQUENCE public.approval_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.approval_id_seq OWNED BY public.approval.id;
CREATE TABLE public.attachment (
    id integer NOT NULL,
    category character varying(32) NOT NULL,
    sha256 character varying(64) NOT NULL,
    content_type character varying(100) NOT NULL,
    size integer NOT NULL,
    filename character varying(255) NOT NULL,
    has_thumbnail boolean NOT NULL,
    media_id character varying(255),
    created_at timestamp with time zone NOT NULL,
    order_id integer NOT NULL,
    task_id integer,
    uploader_id integer,
    removed_at timestamp with time zone,
    removed_by_id integer,
    remove_reason character varying(255),
    ticket_id integer
);
COMMENT ON COLUMN public.attachment.category IS 'PLUMBING_ELECTRICAL: plumbing_electrical\nWALLS_FLOORS: walls_floors\nWINDOWS: windows\nOTHER: other\nUNSORTED: unsorted\nPAPER_ORDER: paper_order\nDRAWING: drawing\nDESIGN: design\nINSTALL: install\nSIGNATURE: signature\nTICKET_REPORT: ticket_report\nTICKET_BEFORE: ticket_before\nTICKET_AFTER: ticket_after';
CREATE SEQUENCE public.attachment_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.attachment_id_seq OWNED BY public.attachment.id;
CREATE TABLE public.audit_log (
    id bigint NOT NULL,
    at timestamp with time zone NOT NULL,
    actor_userid character varying(64) NOT NULL,
    action character varying(32) NOT NULL,
    order_id integer,
    order_number character varying(32) NOT NULL,
    customer_id integer,
    detail jsonb NOT NULL,
    ip character varying(64) NOT NULL,
    actor_id integer
);
COMMENT ON COLUMN public.audit_log.action IS 'SIGN_IN: sign_in\nORDER_VIEW: order_view\nPHONE_REVEAL: phone_reveal\nORDER_EXPORT: order_export\nSTATS_EXPORT: stats_export\nAUDIT_EXPORT: audit_export\nCUSTOMER_EXPORT: customer_export\nCUSTOMER_ERASE: customer_erase\nRECEIVABLES_EXPORT: receivables_export\nLEAD_VIEW: lead_view\nDEALER_ORDER_EXPORT: dealer_order_export';
CREATE SEQUENCE public.audit_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.audit_log_id_seq OWNED BY public.audit_log.id;
CREATE TABLE public.contact_way (
    id integer NOT NULL,
    state_key character varying(30) NOT NULL,
    config_id character varying(64) NOT NULL,
    qr_code character varying(512) NOT NULL,
    call_state character varying(16) NOT NULL,
    attempts integer NOT NULL,
    next_attempt_at timestamp with time zone NOT NULL,
    locked_until timestamp with time zone,
    last_error character varying(512) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    member_id integer NOT NULL,
    order_id integer NOT NULL
);
COMMENT ON COLUMN public.contact_way.call_state IS 'QUEUED: queued\nSENDING: sending\nDONE: done\nFAILED: failed\nUNKNOWN: unknown';
CREATE SEQUENCE public.contact_way_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.contact_way_id_seq OWNED BY public.contact_way.id;
CREATE TABLE public.customer (
    id integer NOT NULL,
    name character varying(64) NOT NULL,
    phone_encrypted text NOT NULL,
    phone_index character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    erased_at timestamp with time zone
);
CREATE SEQUENCE public.customer_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.customer_id_seq OWNED BY public.customer.id;
CREATE TABLE public.customer_message (
    id integer NOT NULL,
    external_userid character varying(64) NOT NULL,
    milestone character varying(32) NOT NULL,
    text text NOT NULL,
    link character varying(1024) NOT NULL,
    month character varying(7) NOT NULL,
    slot smallint,
    msgid character varying(128) NOT NULL,
    call_state character varying(16) NOT NULL,
    attempts integer NOT NULL,
    next_attempt_at timestamp with time zone NOT NULL,
    locked_until timestamp with time zone,
    last_error character varying(512) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    customer_id integer NOT NULL,
    order_id integer NOT NULL,
    sender_id integer NOT NULL
);
COMMENT ON COLUMN public.customer_message.call_state IS 'QUEUED: queued\nSENDING: sending\nDONE: done\nFAILED: failed\nUNKNOWN: unknown';
CREATE SEQUENCE public.customer_message_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.customer_message_id_seq OWNED BY public.customer_message.id;
CREATE TABLE public.customer_request (
    id integer NOT NULL,
    kind character varying(16) NOT NULL,
    booked_date date NOT NULL,
    wanted_date date NOT NULL,
    wanted_part character varying(16) NOT NULL,
    note character varying(200) NOT NULL,
    state character varying(16) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    handled_at timestamp with time zone,
    handled_by_id integer,
    order_id integer NOT NULL,
    task_id integer
);
COMMENT ON COLUMN public.customer_request.kind IS 'MEASURE: measure\nINSTALL: install\nVISIT: visit';
COMMENT ON COLUMN public.customer_request.wanted_part IS 'MORNING: morning\nAFTERNOON: afternoon\nANY: any';
COMMENT ON COLUMN public.customer_request.state IS 'OPEN: open\nHANDLED: handled';
CREATE SEQUENCE public.customer_request_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.customer_request_id_seq OWNED BY public.customer_request.id;
CREATE TABLE public.dealer_order (
    id integer NOT NULL,
    number character varying(32) NOT NULL,
    kind character varying(16) NOT NULL,
    state character varying(16) NOT NULL,
    state_since timestamp with time zone,
    amount numeric(14,2) NOT NULL,
    note character varying(500) NOT NULL,
    return_reason character varying(500) NOT NULL,
    factory_number character varying(32),
    submitted_at timestamp with time zone,
    accepted_at timestamp with time zone,
    returned_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    accepted_by_id integer,
    copied_from_id integer,
    created_by_id integer NOT NULL,
    dealer_id integer NOT NULL,
    warehouse_id integer
);
COMMENT ON COLUMN public.dealer_order.kind IS 'NEW: new\nREPLACEMENT: replacement\nMARKETING: marketing';
COMMENT ON COLUMN public.dealer_order.state IS 'DRAFT: draft\nSUBMITTED: submitted\nACCEPTED: accepted\nRETURNED: returned\nCANCELLED: cancelled';
CREATE TABLE public.dealer_order_event (
    id integer NOT NULL,
    kind character varying(16) NOT NULL,
    payload jsonb NOT NULL,
    at timestamp with time zone NOT NULL,
    actor_id integer,
    order_id integer NOT NULL
);
COMMENT ON COLUMN public.dealer_order_event.kind IS 'CREATED: created\nSAVED: saved\nSUBMITTED: submitted\nREVISED: revised\nCANCELLED: cancelled\nACCEPTED: accepted\nRETURNED: returned\nCOPIED: copied\nPIECE_MOVED: piece_moved';
CREATE SEQUENCE public.dealer_order_event_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.dealer_order_event_id_seq OWNED BY public.dealer_order_event.id;
CREATE SEQUENCE public.dealer_order_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.dealer_order_id_seq OWNED BY public.dealer_order.id;
CREATE TABLE public.dealer_order_line (
    id integer NOT NULL,
    quantity integer NOT NULL,
    unit_price numeric(12,2),
    amount numeric(14,2),
    price_source character varying(64) NOT NULL,
    order_id integer NOT NULL,
    product_id integer NOT NULL
);
CREATE SEQUENCE public.dealer_order_line_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.dealer_order_line_id_seq OWNED BY public.dealer_order_line.id;
CREATE TABLE public.dealer_piece (
    id integer NOT NULL,
    seq integer NOT NULL,
    production_number character varying(64) NOT NULL,
    state character varying(16) NOT NULL,
    state_since timestamp with time zone,
    expected_date date,
    finished_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    line_id integer NOT NULL,
    order_id integer NOT NULL
);
COMMENT ON COLUMN public.dealer_piece.state IS 'QUEUED: queued\nIN_PRODUCTION: in_production\nFINISHED: finished\nSHIPPED: shipped\nIN_STOCK: in_stock\nINSTALLED: installed';
CREATE SEQUENCE public.dealer_piece_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.dealer_piece_id_seq OWNED BY public.dealer_piece.id;
CREATE TABLE public.external_contact (
    id integer NOT NULL,
    external_userid character varying(64) NOT NULL,
    added_at timestamp with time zone NOT NULL,
    welcome_code character varying(255) NOT NULL,
    welcome_deadline timestamp with time zone,
    welcome_state character varying(16) NOT NULL,
    welcome_payload jsonb NOT NULL,
    attempts integer NOT NULL,
    locked_until timestamp with time zone,
    last_error character varying(512) NOT NULL,
    customer_id integer NOT NULL,
    member_id integer NOT NULL,
    order_id integer
);
COMMENT ON COLUMN public.external_contact.welcome_state IS 'QUEUED: queued\nSENDING: sending\nDONE: done\nFAILED: failed\nUNKNOWN: unknown';
CREATE SEQUENCE public.external_contact_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.external_contact_id_seq OWNED BY public.external_contact.id;
CREATE TABLE public.idempotency_key (
    id bigint NOT NULL,
    key character varying(255) NOT NULL,
    fingerprint character varying(64) NOT NULL,
    status smallint NOT NULL,
    response jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    token_id integer NOT NULL
);
CREATE SEQUENCE public.idempotency_key_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.idempotency_key_id_seq OWNED BY public.idempotency_key.id;
CREATE TABLE public.inbox (
    id bigint NOT NULL,
    dedupe_key character varying(255) NOT NULL,
    userid character varying(64) NOT NULL,
    msg_type character varying(32) NOT NULL,
    payload jsonb NOT NULL,
    state character varying(16) NOT NULL,
    attempts integer NOT NULL,
    locked_until timestamp with time zone,
    last_error text NOT NULL,
    received_at timestamp with time zone NOT NULL,
    processed_at timestamp with time zone,
    purged_at timestamp with time zone
);
COMMENT ON COLUMN public.inbox.state IS 'PENDING: pending\nDONE: done\nFAILED: failed';
CREATE SEQUENCE public.inbox_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.inbox_id_seq OWNED BY public.inbox.id;
CREATE TABLE public.invoice (
    id integer NOT NULL,
    number character varying(32) NOT NULL,
    amount numeric(12,2) NOT NULL,
    issued_on date NOT NULL,
    buyer_tax_id character varying(20) NOT NULL,
    file_sha256 character varying(64),
    file_type character varying(100),
    filename character varying(255) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    voided_at timestamp with time zone,
    void_reason character varying(255),
    issued_by_id integer,
    order_id integer NOT NULL
);
CREATE SEQUENCE public.invoice_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.invoice_id_seq OWNED BY public.invoice.id;
CREATE TABLE public.job (
    id bigint NOT NULL,
    kind character varying(32) NOT NULL,
    key character varying(255) NOT NULL,
    due_at timestamp with time zone NOT NULL,
    payload jsonb NOT NULL,
    state character varying(16) NOT NULL,
    attempts integer NOT NULL,
    locked_until timestamp with time zone,
    last_error text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    done_at timestamp with time zone
);
COMMENT ON COLUMN public.job.state IS 'PENDING: pending\nDONE: done\nFAILED: failed';
CREATE SEQUENCE public.job_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.job_id_seq OWNED BY public.job.id;
CREATE TABLE public.lead (
    id integer NOT NULL,
    number character varying(32) NOT NULL,
    name character varying(64) NOT NULL,
    phone_encrypted text NOT NULL,
    phone_index character varying(64) NOT NULL,
    need_level character varying(8) NOT NULL,
    product_ids jsonb NOT NULL,
    products character varying(255) NOT NULL,
    wanted_at timestamp with time zone,
    note character varying(500) NOT NULL,
    source character varying(16) NOT NULL,
    state character varying(16) NOT NULL,
    state_since timestamp with time zone,
    assigned_at timestamp with time zone,
    rejections integer NOT NULL,
    transfers integer NOT NULL,
    decided_at timestamp with time zone,
    outcome_reason character varying(255) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    consultant_id integer,
    created_by_id integer,
    order_id integer,
    store_id integer NOT NULL
);
COMMENT ON COLUMN public.lead.source IS 'STAFF: staff\nPUBLIC: public\nAPI: api\nCSV: csv';
COMMENT ON COLUMN public.lead.state IS 'NEW: new\nASSIGNED: assigned\nCLAIMED: claimed\nARRIVED: arrived\nPAUSED: paused\nFOLLOW_UP: follow_up\nWON: won\nNOT_WON: not_won\nNO_SHOW: no_show\nVOID: void';
CREATE TABLE public.lead_event (
    id integer NOT NULL,
    kind character varying(16) NOT NULL,
    text character varying(255) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    actor_id integer,
    lead_id integer NOT NULL,
    staff_id integer
);
COMMENT ON COLUMN public.lead_event.kind IS 'CREATED: created\nASSIGNED: assigned\nCLAIMED: claimed\nREJECTED: rejected\nTRANSFERRED: transferred\nPAUSED: paused\nARRIVED: arrived\nFOLLOW_UP: follow_up\nWON: won\nNOT_WON: not_won\nNO_SHOW: no_show\nVOIDED: voided\nREASSIGNED: reassigned';
CREATE SEQUENCE public.lead_event_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.lead_event_id_seq OWNED BY public.lead_event.id;
CREATE SEQUENCE public.lead_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.lead_id_seq OWNED BY public.lead.id;
CREATE TABLE public.news (
    id integer NOT NULL,
    title character varying(64) NOT NULL,
    body text NOT NULL,
    kind character varying(16) NOT NULL,
    roles jsonb NOT NULL,
    unit_ids jsonb NOT NULL,
    file_sha256 character varying(64),
    file_name character varying(128) NOT NULL,
    file_type character varying(128) NOT NULL,
    file_size integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    withdrawn_at timestamp with time zone,
    author_id integer NOT NULL,
    withdrawn_by_id integer
);
COMMENT ON COLUMN public.news.kind IS 'NEWS: news\nPROMOTION: promotion\nPRICE_LIST: price_list';
CREATE TABLE public.news_delivery (
    id bigint NOT NULL,
    card_task_id character varying(128) NOT NULL,
    read_at timestamp with time zone,
    news_id integer NOT NULL,
    staff_id integer NOT NULL
);
CREATE SEQUENCE public.news_delivery_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.news_delivery_id_seq OWNED BY public.news_delivery.id;
CREATE SEQUENCE public.news_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.news_id_seq OWNED BY public.news.id;
CREATE TABLE public."order" (
    id integer NOT NULL,
    number character varying(32) NOT NULL,
    address character varying(255) NOT NULL,
    state character varying(32) NOT NULL,
    expected_measure_date date,
    note text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    customer_id integer NOT NULL,
    org_unit_id integer NOT NULL,
    sales_id integer NOT NULL,
    cancel_reason character varying(255) NOT NULL,
    contract_amount numeric(12,2),
    confirmed_at timestamp with time zone,
    designed_at timestamp with time zone,
    in_stock_at timestamp with time zone,
    installed_at timestamp with time zone,
    measured_at timestamp with time zone,
    signed_at timestamp with time zone,
    state_since timestamp with time zone,
    visited_at timestamp with time zone,
    cancelled_at timestamp with time zone,
    cancelled_from character varying(32),
    approval_state character varying(16),
    discount_amount numeric(12,2) DEFAULT 0 NOT NULL,
    list_amount numeric(12,2),
    production_order_number character varying(32),
    released_at timestamp with time zone,
    paid_amount numeric(12,2) DEFAULT 0 NOT NULL,
    customer_link_version integer DEFAULT 0 NOT NULL
);
COMMENT ON COLUMN public."order".state IS 'CREATED: created\nMEASURE_SCHEDULED: measure_scheduled\nMEASURED: measured\nDESIGNED: designed\nCONFIRMED: confirmed\nIN_STOCK: in_stock\nINSTALL_SCHEDULED: install_scheduled\nINSTALLED: installed\nSIGNED: signed\nVISITED: visited\nCANCELLED: cancelled';
CREATE TABLE public.order_event (
    id integer NOT NULL,
    kind character varying(32) NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    actor_id integer,
    order_id integer NOT NULL
);
CREATE SEQUENCE public.order_event_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.order_event_id_seq OWNED BY public.order_event.id;
CREATE SEQUENCE public.order_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.order_id_seq OWNED BY public."order".id;
CREATE TABLE public.order_item (
    id integer NOT NULL,
    series character varying(64) NOT NULL,
    model character varying(64) NOT NULL,
    room character varying(64) NOT NULL,
    quantity integer NOT NULL,
    order_id integer NOT NULL,
    product_id integer,
    amount numeric(12,2),
    list_price numeric(12,2),
    unit_price numeric(12,2)
);
CREATE SEQUENCE public.order_item_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.order_item_id_seq OWNED BY public.order_item.id;
CREATE TABLE public.order_piece (
    id integer NOT NULL,
    seq integer NOT NULL,
    production_number character varying(64),
    state character varying(16) NOT NULL,
    arrived_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    item_id integer NOT NULL,
    order_id integer NOT NULL,
    received_by_id integer,
    expected_date date,
    state_since timestamp with time zone
);
COMMENT ON COLUMN public.order_piece.state IS 'QUEUED: queued\nIN_PRODUCTION: in_production\nFINISHED: finished\nSHIPPED: shipped\nIN_STOCK: in_stock\nINSTALLED: installed';
CREATE SEQUENCE public.order_piece_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.order_piece_id_seq OWNED BY public.order_piece.id;
CREATE TABLE public.org_unit (
    id integer NOT NULL,
    name character varying(100) NOT NULL,
    path character varying(255) NOT NULL,
    parent_id integer,
    address character varying(255) DEFAULT ''::character varying NOT NULL,
    active boolean DEFAULT true NOT NULL,
    wecom_department_id integer,
    kind character varying(16) DEFAULT 'own'::character varying NOT NULL
);
CREATE SEQUENCE public.org_unit_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.org_unit_id_seq OWNED BY public.org_unit.id;
CREATE TABLE public.outbox (
    id bigint NOT NULL,
    kind character varying(16) NOT NULL,
    payload jsonb NOT NULL,
    card_task_id character varying(128),
    state character varying(16) NOT NULL,
    attempts integer NOT NULL,
    next_attempt_at timestamp with time zone NOT NULL,
    locked_until timestamp with time zone,
    last_error text NOT NULL,
    msgid character varying(128) NOT NULL,
    response_code character varying(255) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    sent_at timestamp with time zone,
    purged_at timestamp with time zone,
    priority smallint NOT NULL,
    media_id character varying(128) NOT NULL,
    media_uploaded_at timestamp with time zone,
    content_key character varying(64) NOT NULL
);
COMMENT ON COLUMN public.outbox.kind IS 'SEND: send\nUPDATE_CARD: update_card';
COMMENT ON COLUMN public.outbox.state IS 'PENDING: pending\nDONE: done\nFAILED: failed';
CREATE SEQUENCE public.outbox_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.outbox_id_seq OWNED BY public.outbox.id;
CREATE TABLE public.payment (
    id integer NOT NULL,
    amount numeric(12,2) NOT NULL,
    method character varying(16) NOT NULL,
    kind character varying(16) NOT NULL,
    note character varying(255) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    order_id integer NOT NULL,
    recorded_by_id integer,
    voided_at timestamp with time zone,
    voided_by_id integer,
    void_reason character varying(255),
    confirmed_at timestamp with time zone,
    confirmed_by_id integer
);
COMMENT ON COLUMN public.payment.method IS 'CASH: cash\nWECHAT: wechat\nALIPAY: alipay\nCARD: card\nTRANSFER: transfer';
COMMENT ON COLUMN public.payment.kind IS 'DEPOSIT: deposit\nFULL: full\nBALANCE: balance';
CREATE SEQUENCE public.payment_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.payment_id_seq OWNED BY public.payment.id;
CREATE TABLE public.price_list (
    id integer NOT NULL,
    name character varying(64) NOT NULL,
    valid_from date NOT NULL,
    valid_to date,
    created_at timestamp with time zone NOT NULL,
    org_unit_id integer
);
COMMENT ON TABLE public.price_list IS 'Prices for a part of the company over a time: a store''s or a region''s (or, null, the whole';
CREATE TABLE public.price_list_entry (
    id integer NOT NULL,
    price numeric(12,2) NOT NULL,
    price_list_id integer NOT NULL,
    product_id integer NOT NULL
);
CREATE SEQUENCE public.price_list_entry_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.price_list_entry_id_seq OWNED BY public.price_list_entry.id;
CREATE SEQUENCE public.price_list_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.price_list_id_seq OWNED BY public.price_list.id;
CREATE TABLE public.product (
    id integer NOT NULL,
    series character varying(64) NOT NULL,
    model character varying(64) NOT NULL,
    name character varying(128) NOT NULL,
    active boolean NOT NULL,
    install_photo_min integer NOT NULL,
    maintenance_months integer NOT NULL,
    list_price numeric(12,2),
    unit character varying(16) DEFAULT '件'::character varying NOT NULL,
    image_content_type character varying(100),
    image_sha256 character varying(64),
    specs jsonb DEFAULT '{}'::jsonb NOT NULL,
    production_days integer DEFAULT 15 NOT NULL,
    stock_kind character varying(16)
);
CREATE SEQUENCE public.product_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.product_id_seq OWNED BY public.product.id;
CREATE TABLE public.service_token (
    id integer NOT NULL,
    name character varying(64) NOT NULL,
    scopes character varying(255) NOT NULL,
    secret_hash character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    last_used_at timestamp with time zone,
    created_by_id integer,
    staff_id integer
);
CREATE SEQUENCE public.service_token_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.service_token_id_seq OWNED BY public.service_token.id;
CREATE TABLE public.signature (
    id integer NOT NULL,
    ip character varying(64) NOT NULL,
    user_agent character varying(255) NOT NULL,
    signed_at timestamp with time zone NOT NULL,
    attachment_id integer NOT NULL,
    order_id integer NOT NULL
);
CREATE SEQUENCE public.signature_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.signature_id_seq OWNED BY public.signature.id;
CREATE TABLE public.sms_message (
    id integer NOT NULL,
    phone_encrypted text NOT NULL,
    template character varying(64) NOT NULL,
    params jsonb NOT NULL,
    purpose character varying(64) NOT NULL,
    state character varying(16) NOT NULL,
    attempts integer NOT NULL,
    next_attempt_at timestamp with time zone NOT NULL,
    locked_until timestamp with time zone,
    last_error character varying(512) NOT NULL,
    provider_serial character varying(128) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    sent_at timestamp with time zone,
    lead_id integer,
    order_id integer
);
COMMENT ON COLUMN public.sms_message.state IS 'QUEUED: queued\nSENDING: sending\nDONE: done\nFAILED: failed\nUNKNOWN: unknown';
CREATE SEQUENCE public.sms_message_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.sms_message_id_seq OWNED BY public.sms_message.id;
CREATE TABLE public.staff (
    id integer NOT NULL,
    userid character varying(64) NOT NULL,
    name character varying(64) NOT NULL,
    roles jsonb NOT NULL,
    active boolean NOT NULL,
    score double precision,
    created_at timestamp with time zone NOT NULL,
    org_unit_id integer NOT NULL,
    left_at timestamp with time zone,
    tag_roles jsonb DEFAULT '[]'::jsonb NOT NULL
);
CREATE SEQUENCE public.staff_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.staff_id_seq OWNED BY public.staff.id;
CREATE TABLE public.stock_level (
    id integer NOT NULL,
    on_hand integer NOT NULL,
    reserved integer NOT NULL,
    safety_level integer NOT NULL,
    below_safety boolean NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    product_id integer NOT NULL,
    warehouse_id integer NOT NULL
);
CREATE SEQUENCE public.stock_level_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.stock_level_id_seq OWNED BY public.stock_level.id;
CREATE TABLE public.stock_move (
    id integer NOT NULL,
    kind character varying(16) NOT NULL,
    quantity integer NOT NULL,
    on_hand_after integer NOT NULL,
    reserved_after integer NOT NULL,
    reason character varying(255) NOT NULL,
    ref character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    actor_id integer,
    product_id integer NOT NULL,
    warehouse_id integer NOT NULL
);
COMMENT ON COLUMN public.stock_move.kind IS 'RECEIVED: received\nRESERVED: reserved\nRELEASED: released\nISSUED: issued\nRETURNED: returned\nCOUNTED: counted';
CREATE SEQUENCE public.stock_move_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.stock_move_id_seq OWNED BY public.stock_move.id;
CREATE TABLE public.task (
    id integer NOT NULL,
    kind character varying(16) NOT NULL,
    state character varying(16) NOT NULL,
    scheduled_date date NOT NULL,
    decline_reason character varying(255) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    assigned_by_id integer,
    assignee_id integer,
    order_id integer NOT NULL,
    done_at timestamp with time zone,
    superseded boolean NOT NULL
);
COMMENT ON COLUMN public.task.kind IS 'MEASURE: measure\nINSTALL: install\nVISIT: visit';
COMMENT ON COLUMN public.task.state IS 'ASSIGNED: assigned\nACCEPTED: accepted\nDECLINED: declined\nDONE: done\nCANCELLED: cancelled';
CREATE SEQUENCE public.task_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.task_id_seq OWNED BY public.task.id;
CREATE TABLE public.ticket (
    id integer NOT NULL,
    number character varying(32) NOT NULL,
    kind character varying(16) NOT NULL,
    source character varying(16) NOT NULL,
    description text NOT NULL,
    state character varying(16) NOT NULL,
    state_since timestamp with time zone,
    deadline timestamp with time zone NOT NULL,
    scheduled_date date,
    decline_reason character varying(255) NOT NULL,
    resolution character varying(500) NOT NULL,
    done_at timestamp with time zone,
    confirmed_at timestamp with time zone,
    confirm_comment character varying(500) NOT NULL,
    overdue_alerted_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    assigned_by_id integer,
    assignee_id integer,
    opened_by_id integer,
    order_id integer NOT NULL
);
COMMENT ON COLUMN public.ticket.kind IS 'REPAIR: repair\nCOMPLAINT: complaint\nMAINTENANCE: maintenance';
COMMENT ON COLUMN public.ticket.source IS 'CUSTOMER: customer\nCHAT: chat\nSTAFF_H5: staff_h5\nLOW_SCORE: low_score\nSCHEDULE: schedule';
COMMENT ON COLUMN public.ticket.state IS 'OPEN: open\nDISPATCHED: dispatched\nACCEPTED: accepted\nDONE: done\nCONFIRMED: confirmed\nCLOSED: closed\nCANCELLED: cancelled';
CREATE SEQUENCE public.ticket_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.ticket_id_seq OWNED BY public.ticket.id;
CREATE TABLE public.tortoise_migrations (
    id integer NOT NULL,
    app character varying(255) NOT NULL,
    name character varying(255) NOT NULL,
    applied_at timestamp with time zone NOT NULL
);
CREATE SEQUENCE public.tortoise_migrations_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.tortoise_migrations_id_seq OWNED BY public.tortoise_migrations.id;
CREATE TABLE public.visit (
    id integer NOT NULL,
    reached boolean NOT NULL,
    notes text NOT NULL,
    score_sales integer,
    score_measurer integer,
    score_installer integer,
    comment_sales character varying(255) NOT NULL,
    comment_measurer character varying(255) NOT NULL,
    comment_installer character varying(255) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    caller_id integer NOT NULL,
    order_id integer NOT NULL,
    task_id integer
);
CREATE SEQUENCE public.visit_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.visit_id_seq OWNED BY public.visit.id;
CREATE TABLE public.warehouse (
    id integer NOT NULL,
    name character varying(64) NOT NULL,
    active boolean NOT NULL,
    org_unit_id integer NOT NULL
);
CREATE SEQUENCE public.warehouse_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.warehouse_id_seq OWNED BY public.warehouse.id;
CREATE TABLE public.webhook_delivery (
    id bigint NOT NULL,
    event_id character varying(36) NOT NULL,
    event_type character varying(64) NOT NULL,
    payload jsonb NOT NULL,
    state character varying(16) NOT NULL,
    attempts integer NOT NULL,
    next_attempt_at timestamp with time zone NOT NULL,
    locked_until timestamp with time zone,
    last_status smallint,
    last_error text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    delivered_at timestamp with time zone,
    subscription_id integer NOT NULL
);
COMMENT ON COLUMN public.webhook_delivery.state IS 'PENDING: pending\nDONE: done\nFAILED: failed';
CREATE SEQUENCE public.webhook_delivery_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.webhook_delivery_id_seq OWNED BY public.webhook_delivery.id;
CREATE TABLE public.webhook_subscription (
    id integer NOT NULL,
    name character varying(64) NOT NULL,
    url character varying(500) NOT NULL,
    secret_encrypted text NOT NULL,
    events character varying(500) NOT NULL,
    active boolean NOT NULL,
    created_at timestamp with time zone NOT NULL,
    deactivated_at timestamp with time zone,
    created_by_id integer
);
CREATE SEQUENCE public.webhook_subscription_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.webhook_subscription_id_seq OWNED BY public.webhook_subscription.id;
ALTER TABLE ONLY public.alert ALTER COLUMN id SET DEFAULT nextval('public.alert_id_seq'::regclass);
ALTER TABLE ONLY public.approval ALTER COLUMN id SET DEFAULT nextval('public.approval_id_seq'::regclass);
ALTER TABLE ONLY public.attachment ALTER COLUMN id SET DEFAULT nextval('public.attachment_id_seq'::regclass);
ALTER TABLE ONLY public.audit_log ALTER COLUMN id SET DEFAULT nextval('public.audit_log_id_seq'::regclass);
ALTER TABLE ONLY public.contact_way ALTER COLUMN id SET DEFAULT nextval('public.contact_way_id_seq'::regclass);
ALTER TABLE ONLY public.customer ALTER COLUMN id SET DEFAULT nextval('public.customer_id_seq'::regclass);
ALTER TABLE ONLY public.customer_message ALTER COLUMN id SET DEFAULT nextval('public.customer_message_id_seq'::regclass);
ALTER TABLE ONLY public.customer_request ALTER COLUMN id SET DEFAULT nextval('public.customer_request_id_seq'::regclass);
ALTER TABLE ONLY public.dealer_order ALTER COLUMN id SET DEFAULT nextval('public.dealer_order_id_seq'::regclass);
ALTER TABLE ONLY public.dealer_order_event ALTER COLUMN id SET DEFAULT nextval('public.dealer_order_event_id_seq'::regclass);
ALTER TABLE ONLY public.dealer_order_line ALTER COLUMN id SET DEFAULT nextval('public.dealer_order_line_id_seq'::regclass);
ALTER TABLE ONLY public.dealer_piece ALTER COLUMN id SET DEFAULT nextval('public.dealer_piece_id_seq'::regclass);
ALTER TABLE ONLY public.external_contact ALTER COLUMN id SET DEFAULT nextval('public.external_contact_id_seq'::regclass);
ALTER TABLE ONLY public.idempotency_key ALTER COLUMN id SET DEFAULT nextval('public.idempotency_key_id_seq'::regclass);
ALTER TABLE ONLY public.inbox ALTER COLUMN id SET DEFAULT nextval('public.inbox_id_seq'::regclass);
ALTER TABLE ONLY public.invoice ALTER COLUMN id SET DEFAULT nextval('public.invoice_id_seq'::regclass);
ALTER TABLE ONLY public.job ALTER COLUMN id SET DEFAULT nextval('public.job_id_seq'::regclass);
ALTER TABLE ONLY public.lead ALTER COLUMN id SET DEFAULT nextval('public.lead_id_seq'::regclass);
ALTER TABLE ONLY public.lead_event ALTER COLUMN id SET DEFAULT nextval('public.lead_event_id_seq'::regclass);
ALTER TABLE ONLY public.news ALTER COLUMN id SET DEFAULT nextval('public.news_id_seq'::regclass);
ALTER TABLE ONLY public.news_delivery ALTER COLUMN id SET DEFAULT nextval('public.news_delivery_id_seq'::regclass);
ALTER TABLE ONLY public."order" ALTER COLUMN id SET DEFAULT nextval('public.order_id_seq'::regclass);
ALTER TABLE ONLY public.order_event ALTER COLUMN id SET DEFAULT nextval('public.order_event_id_seq'::regclass);
ALTER TABLE ONLY public.order_item ALTER COLUMN id SET DEFAULT nextval('public.order_item_id_seq'::regclass);
ALTER TABLE ONLY public.order_piece ALTER COLUMN id SET DEFAULT nextval('public.order_piece_id_seq'::regclass);
ALTER TABLE ONLY public.org_unit ALTER COLUMN id SET DEFAULT nextval('public.org_unit_id_seq'::regclass);
ALTER TABLE ONLY public.outbox ALTER COLUMN id SET DEFAULT nextval('public.outbox_id_seq'::regclass);
ALTER TABLE ONLY public.payment ALTER COLUMN id SET DEFAULT nextval('public.payment_id_seq'::regclass);
ALTER TABLE ONLY public.price_list ALTER COLUMN id SET DEFAULT nextval('public.price_list_id_seq'::regclass);
ALTER TABLE ONLY public.price_list_entry ALTER COLUMN id SET DEFAULT nextval('public.price_list_entry_id_seq'::regclass);
ALTER TABLE ONLY public.product ALTER COLUMN id SET DEFAULT nextval('public.product_id_seq'::regclass);
ALTER TABLE ONLY public.service_token ALTER COLUMN id SET DEFAULT nextval('public.service_token_id_seq'::regclass);
ALTER TABLE ONLY public.signature ALTER COLUMN id SET DEFAULT nextval('public.signature_id_seq'::regclass);
ALTER TABLE ONLY public.sms_message ALTER COLUMN id SET DEFAULT nextval('public.sms_message_id_seq'::regclass);
ALTER TABLE ONLY public.staff ALTER COLUMN id SET DEFAULT nextval('public.staff_id_seq'::regclass);
ALTER TABLE ONLY public.stock_level ALTER COLUMN id SET DEFAULT nextval('public.stock_level_id_seq'::regclass);
ALTER TABLE ONLY public.stock_move ALTER COLUMN id SET DEFAULT nextval('public.stock_move_id_seq'::regclass);
ALTER TABLE ONLY public.task ALTER COLUMN id SET DEFAULT nextval('public.task_id_seq'::regclass);
ALTER TABLE ONLY public.ticket ALTER COLUMN id SET DEFAULT nextval('public.ticket_id_seq'::regclass);
ALTER TABLE ONLY public.tortoise_migrations ALTER COLUMN id SET DEFAULT nextval('public.tortoise_migrations_id_seq'::regclass);
ALTER TABLE ONLY public.visit ALTER COLUMN id SET DEFAULT nextval('public.visit_id_seq'::regclass);
ALTER TABLE ONLY public.warehouse ALTER COLUMN id SET DEFAULT nextval('public.warehouse_id_seq'::regclass);
ALTER TABLE ONLY public.webhook_delivery ALTER COLUMN id SET DEFAULT nextval('public.webhook_delivery_id_seq'::regclass);
ALTER TABLE ONLY public.webhook_subscription ALTER COLUMN id SET DEFAULT nextval('public.webhook_subscription_id_seq'::regclass);
ALTER TABLE ONLY public.alert
    ADD CONSTRAINT alert_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.alert_threshold
    ADD CONSTRAINT alert_threshold_pkey PRIMARY KEY (rule);
ALTER TABLE ONLY public.approval
    ADD CONSTRAINT approval_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.attachment
    ADD CONSTRAINT attachment_media_id_key UNIQUE (media_id);
ALTER TABLE ONLY public.attachment
    ADD CONSTRAINT attachment_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.contact_way
    ADD CONSTRAINT contact_way_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.contact_way
    ADD CONSTRAINT contact_way_state_key_key UNIQUE (state_key);
ALTER TABLE ONLY public.customer_message
    ADD CONSTRAINT customer_message_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.customer
    ADD CONSTRAINT customer_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.customer_request
    ADD CONSTRAINT customer_request_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.dealer_order_event
    ADD CONSTRAINT dealer_order_event_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.dealer_order
    ADD CONSTRAINT dealer_order_factory_number_key UNIQUE (factory_number);
ALTER TABLE ONLY public.dealer_order_line
    ADD CONSTRAINT dealer_order_line_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.dealer_order
    ADD CONSTRAINT dealer_order_number_key UNIQUE (number);
ALTER TABLE ONLY public.dealer_order
    ADD CONSTRAINT dealer_order_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.dealer_piece
    ADD CONSTRAINT dealer_piece_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.dealer_piece
    ADD CONSTRAINT dealer_piece_production_number_key UNIQUE (production_number);
ALTER TABLE ONLY public.external_contact
    ADD CONSTRAINT external_contact_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.idempotency_key
    ADD CONSTRAINT idempotency_key_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.inbox
    ADD CONSTRAINT inbox_dedupe_key_key UNIQUE (dedupe_key);
ALTER TABLE ONLY public.inbox
    ADD CONSTRAINT inbox_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.invoice
    ADD CONSTRAINT invoice_number_key UNIQUE (number);
ALTER TABLE ONLY public.invoice
    ADD CONSTRAINT invoice_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.job
    ADD CONSTRAINT job_key_key UNIQUE (key);
ALTER TABLE ONLY public.job
    ADD CONSTRAINT job_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.lead_event
    ADD CONSTRAINT lead_event_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.lead
    ADD CONSTRAINT lead_number_key UNIQUE (number);
ALTER TABLE ONLY public.lead
    ADD CONSTRAINT lead_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.news_delivery
    ADD CONSTRAINT news_delivery_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.news
    ADD CONSTRAINT news_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.order_event
    ADD CONSTRAINT order_event_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.order_item
    ADD CONSTRAINT order_item_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public."order"
    ADD CONSTRAINT order_number_key UNIQUE (number);
ALTER TABLE ONLY public.order_piece
    ADD CONSTRAINT order_piece_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.order_piece
    ADD CONSTRAINT order_piece_production_number_key UNIQUE (production_number);
ALTER TABLE ONLY public."order"
    ADD CONSTRAINT order_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public."order"
    ADD CONSTRAINT order_production_order_number_key UNIQUE (production_order_number);
ALTER TABLE ONLY public.org_unit
    ADD CONSTRAINT org_unit_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.org_unit
    ADD CONSTRAINT org_unit_wecom_department_id_key UNIQUE (wecom_department_id);
ALTER TABLE ONLY public.outbox
    ADD CONSTRAINT outbox_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.payment
    ADD CONSTRAINT payment_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.price_list_entry
    ADD CONSTRAINT price_list_entry_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.price_list
    ADD CONSTRAINT price_list_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.product
    ADD CONSTRAINT product_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.service_token
    ADD CONSTRAINT service_token_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.service_token
    ADD CONSTRAINT service_token_secret_hash_key UNIQUE (secret_hash);
ALTER TABLE ONLY public.signature
    ADD CONSTRAINT signature_order_id_key UNIQUE (order_id);
ALTER TABLE ONLY public.signature
    ADD CONSTRAINT signature_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.sms_message
    ADD CONSTRAINT sms_message_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.staff
    ADD CONSTRAINT staff_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.staff
    ADD CONSTRAINT staff_userid_key UNIQUE (userid);
ALTER TABLE ONLY public.stock_level
    ADD CONSTRAINT stock_level_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.stock_move
    ADD CONSTRAINT stock_move_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.task
    ADD CONSTRAINT task_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.ticket
    ADD CONSTRAINT ticket_number_key UNIQUE (number);
ALTER TABLE ONLY public.ticket
    ADD CONSTRAINT ticket_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.tortoise_migrations
    ADD CONSTRAINT tortoise_migrations_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.alert
    ADD CONSTRAINT uid_alert_order_i_2c5e54 UNIQUE (order_id, rule);
ALTER TABLE ONLY public.customer_message
    ADD CONSTRAINT uid_customer_me_custome_e13bdc UNIQUE (customer_id, month, slot);
ALTER TABLE ONLY public.dealer_order_line
    ADD CONSTRAINT uid_dealer_orde_order_i_81e6c9 UNIQUE (order_id, product_id);
ALTER TABLE ONLY public.dealer_piece
    ADD CONSTRAINT uid_dealer_piec_line_id_5efc22 UNIQUE (line_id, seq);
ALTER TABLE ONLY public.external_contact
    ADD CONSTRAINT uid_external_co_externa_afa5bc UNIQUE (external_userid, member_id);
ALTER TABLE ONLY public.idempotency_key
    ADD CONSTRAINT uid_idempotency_token_i_835b47 UNIQUE (token_id, key);
ALTER TABLE ONLY public.news_delivery
    ADD CONSTRAINT uid_news_delive_news_id_6edb0a UNIQUE (news_id, staff_id);
ALTER TABLE ONLY public.order_piece
    ADD CONSTRAINT uid_order_piece_item_id_e11bcd UNIQUE (item_id, seq);
ALTER TABLE ONLY public.org_unit
    ADD CONSTRAINT uid_org_unit_parent__1e505b UNIQUE (parent_id, name);
ALTER TABLE ONLY public.price_list_entry
    ADD CONSTRAINT uid_price_list__price_l_a6f53e UNIQUE (price_list_id, product_id);
ALTER TABLE ONLY public.product
    ADD CONSTRAINT uid_product_series_7a71c6 UNIQUE (series, model);
ALTER TABLE ONLY public.stock_level
    ADD CONSTRAINT uid_stock_level_product_48cc1e UNIQUE (product_id, warehouse_id);
ALTER TABLE ONLY public.tortoise_migrations
    ADD CONSTRAINT uid_tortoise_mi_app_3803a5 UNIQUE (app, name);
ALTER TABLE ONLY public.webhook_delivery
    ADD CONSTRAINT uid_webhook_del_event_i_02d0eb UNIQUE (event_id, subscription_id);
ALTER TABLE ONLY public.visit
    ADD CONSTRAINT visit_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.warehouse
    ADD CONSTRAINT warehouse_name_key UNIQUE (name);
ALTER TABLE ONLY public.warehouse
    ADD CONSTRAINT warehouse_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.webhook_delivery
    ADD CONSTRAINT webhook_delivery_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.webhook_subscription
    ADD CONSTRAINT webhook_subscription_pkey PRIMARY KEY (id);
CREATE INDEX idx_alert_created_547878 ON public.alert USING btree (created_at);
CREATE INDEX idx_approval_order_i_50eea7 ON public.approval USING btree (order_id, state);
CREATE INDEX idx_approval_unit_id_0589c8 ON public.approval USING btree (unit_id, state);
CREATE INDEX idx_attachment_categor_ad65a5 ON public.attachment USING btree (category);
CREATE INDEX idx_attachment_order_i_d599fe ON public.attachment USING btree (order_id, category);
CREATE INDEX idx_attachment_sha256_dec712 ON public.attachment USING btree (sha256);
CREATE INDEX idx_attachment_ticket ON public.attachment USING btree (ticket_id);
CREATE INDEX idx_audit_log_action_286eba ON public.audit_log USING btree (action);
CREATE INDEX idx_audit_log_actor_i_e0b208 ON public.audit_log USING btree (actor_id, at);
CREATE INDEX idx_audit_log_at_63718d ON public.audit_log USING btree (at);
CREATE INDEX idx_audit_log_order_i_a15ca0 ON public.audit_log USING btree (order_id);
CREATE INDEX idx_contact_way_call_st_8953d3 ON public.contact_way USING btree (call_state);
CREATE INDEX idx_customer_me_call_st_15eeea ON public.customer_message USING btree (call_state);
CREATE INDEX idx_customer_phone_i_cf7c6a ON public.customer USING btree (phone_index);
CREATE INDEX idx_customer_re_order_i_8af323 ON public.customer_request USING btree (order_id, state);
CREATE INDEX idx_dealer_orde_created_5e1325 ON public.dealer_order USING btree (created_at);
CREATE INDEX idx_dealer_orde_dealer__ca94e8 ON public.dealer_order USING btree (dealer_id, state);
CREATE INDEX idx_dealer_orde_order_i_d0eabc ON public.dealer_order_event USING btree (order_id, at);
CREATE INDEX idx_dealer_orde_state_e77983 ON public.dealer_order USING btree (state);
CREATE INDEX idx_dealer_piec_order_i_6b7758 ON public.dealer_piece USING btree (order_id, state);
CREATE INDEX idx_external_co_welcome_31de6b ON public.external_contact USING btree (welcome_state);
CREATE INDEX idx_idempotency_expires_8bff94 ON public.idempotency_key USING btree (expires_at);
CREATE INDEX idx_inbox_state_a1546a ON public.inbox USING btree (state);
CREATE INDEX idx_invoice_order_i_6a812d ON public.invoice USING btree (order_id);
CREATE INDEX idx_job_due_at_d8ad5e ON public.job USING btree (due_at);
CREATE INDEX idx_job_kind_bc9481 ON public.job USING btree (kind);
CREATE INDEX idx_job_state_c9e4ce ON public.job USING btree (state);
CREATE INDEX idx_lead_consult_4570c1 ON public.lead USING btree (consultant_id, assigned_at);
CREATE INDEX idx_lead_consult_5574bf ON public.lead USING btree (consultant_id, state);
CREATE INDEX idx_lead_event_lead_id_6cf526 ON public.lead_event USING btree (lead_id, id);
CREATE INDEX idx_lead_phone_i_f8e014 ON public.lead USING btree (phone_index);
CREATE INDEX idx_lead_store_i_9e9bd1 ON public.lead USING btree (store_id, state);
CREATE INDEX idx_news_created_870aae ON public.news USING btree (created_at);
CREATE INDEX idx_news_delive_card_ta_e3a081 ON public.news_delivery USING btree (card_task_id);
CREATE INDEX idx_news_delive_staff_i_ad14ef ON public.news_delivery USING btree (staff_id, read_at);
CREATE INDEX idx_news_kind_095ab5 ON public.news USING btree (kind);
CREATE INDEX idx_order_confirm_ceac80 ON public."order" USING btree (confirmed_at);
CREATE INDEX idx_order_created_a653c8 ON public."order" USING btree (created_at);
CREATE INDEX idx_order_designe_5a7907 ON public."order" USING btree (designed_at);
CREATE INDEX idx_order_event_created_7f6b30 ON public.order_event USING btree (created_at);
CREATE INDEX idx_order_event_order_i_bd254e ON public.order_event USING btree (order_id);
CREATE INDEX idx_order_in_stoc_b212d2 ON public."order" USING btree (in_stock_at);
CREATE INDEX idx_order_install_5b8a7d ON public."order" USING btree (installed_at);
CREATE INDEX idx_order_item_order_i_a417da ON public.order_item USING btree (order_id);
CREATE INDEX idx_order_measure_7cdf4b ON public."order" USING btree (measured_at);
CREATE INDEX idx_order_org_uni_1f9fb1 ON public."order" USING btree (org_unit_id, in_stock_at);
CREATE INDEX idx_order_org_uni_397dc0 ON public."order" USING btree (org_unit_id, created_at);
CREATE INDEX idx_order_org_uni_58afc9 ON public."order" USING btree (org_unit_id, measured_at);
CREATE INDEX idx_order_org_uni_848ab0 ON public."order" USING btree (org_unit_id, state);
CREATE INDEX idx_order_org_uni_b88567 ON public."order" USING btree (org_unit_id, confirmed_at);
CREATE INDEX idx_order_org_uni_c8ef4a ON public."order" USING btree (org_unit_id, designed_at);
CREATE INDEX idx_order_org_uni_df54c5 ON public."order" USING btree (org_unit_id, installed_at);
CREATE INDEX idx_order_owing ON public."order" USING btree (org_unit_id, confirmed_at, contract_amount, paid_amount) WHERE (((state)::text <> 'cancelled'::text) AND ((contract_amount - paid_amount) > (0)::numeric));
CREATE INDEX idx_order_piece_order_i_844004 ON public.order_piece USING btree (order_id, state);
CREATE INDEX idx_order_state_c60baf ON public."order" USING btree (state);
CREATE INDEX idx_org_unit_path_8aebd4 ON public.org_unit USING btree (path);
CREATE INDEX idx_outbox_card_ta_3ebec2 ON public.outbox USING btree (card_task_id);
CREATE INDEX idx_outbox_next_at_59be67 ON public.outbox USING btree (next_attempt_at);
CREATE INDEX idx_outbox_state_a7e990 ON public.outbox USING btree (state);
CREATE INDEX idx_payment_created_at ON public.payment USING btree (created_at);
CREATE INDEX idx_payment_order_i_6caf54 ON public.payment USING btree (order_id);
CREATE INDEX idx_payment_standing_order ON public.payment USING btree (order_id, amount) WHERE (voided_at IS NULL);
CREATE INDEX idx_price_list_org_uni_6ec570 ON public.price_list USING btree (org_unit_id, valid_from);
CREATE INDEX idx_sms_message_next_at_29fadd ON public.sms_message USING btree (next_attempt_at);
CREATE INDEX idx_sms_message_state_ee4f49 ON public.sms_message USING btree (state);
CREATE INDEX idx_stock_level_warehou_5da6d8 ON public.stock_level USING btree (warehouse_id);
CREATE INDEX idx_stock_move_product_a106c2 ON public.stock_move USING btree (product_id, warehouse_id, created_at);
CREATE INDEX idx_stock_move_ref_91be6d ON public.stock_move USING btree (ref);
CREATE INDEX idx_task_assigne_5d0ed1 ON public.task USING btree (assignee_id, state);
CREATE INDEX idx_task_order_i_997f45 ON public.task USING btree (order_id);
CREATE INDEX idx_task_schedul_730990 ON public.task USING btree (scheduled_date);
CREATE INDEX idx_task_state_459788 ON public.task USING btree (state);
CREATE INDEX idx_ticket_assigne_05eeb0 ON public.ticket USING btree (assignee_id, state);
CREATE INDEX idx_ticket_deadlin_0ca3b3 ON public.ticket USING btree (deadline);
CREATE INDEX idx_ticket_order_i_7609f8 ON public.ticket USING btree (order_id, state);
CREATE INDEX idx_ticket_state_187c2d ON public.ticket USING btree (state);
CREATE INDEX idx_visit_created_367c96 ON public.visit USING btree (created_at);
CREATE INDEX idx_visit_order_i_27ea51 ON public.visit USING btree (order_id);
CREATE INDEX idx_webhook_del_next_at_a5fece ON public.webhook_delivery USING btree (next_attempt_at);
CREATE INDEX idx_webhook_del_state_c059e4 ON public.webhook_delivery USING btree (state);
ALTER TABLE ONLY public.alert
    ADD CONSTRAINT alert_handled_by_id_fkey FOREIGN KEY (handled_by_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.alert
    ADD CONSTRAINT alert_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.approval
    ADD CONSTRAINT approval_decided_by_id_fkey FOREIGN KEY (decided_by_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.approval
    ADD CONSTRAINT approval_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.approval
    ADD CONSTRAINT approval_requested_by_id_fkey FOREIGN KEY (requested_by_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.approval
    ADD CONSTRAINT approval_unit_id_fkey FOREIGN KEY (unit_id) REFERENCES public.org_unit(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.attachment
    ADD CONSTRAINT attachment_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.attachment
    ADD CONSTRAINT attachment_removed_by_id_fkey FOREIGN KEY (removed_by_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.attachment
    ADD CONSTRAINT attachment_task_id_fkey FOREIGN KEY (task_id) REFERENCES public.task(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.attachment
    ADD CONSTRAINT attachment_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.ticket(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.attachment
    ADD CONSTRAINT attachment_uploader_id_fkey FOREIGN KEY (uploader_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.contact_way
    ADD CONSTRAINT contact_way_member_id_fkey FOREIGN KEY (member_id) REFERENCES public.staff(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.contact_way
    ADD CONSTRAINT contact_way_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.customer_message
    ADD CONSTRAINT customer_message_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES public.customer(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.customer_message
    ADD CONSTRAINT customer_message_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.customer_message
    ADD CONSTRAINT customer_message_sender_id_fkey FOREIGN KEY (sender_id) REFERENCES public.staff(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.customer_request
    ADD CONSTRAINT customer_request_handled_by_id_fkey FOREIGN KEY (handled_by_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.customer_request
    ADD CONSTRAINT customer_request_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.customer_request
    ADD CONSTRAINT customer_request_task_id_fkey FOREIGN KEY (task_id) REFERENCES public.task(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.dealer_order
    ADD CONSTRAINT dealer_order_accepted_by_id_fkey FOREIGN KEY (accepted_by_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.dealer_order
    ADD CONSTRAINT dealer_order_copied_from_id_fkey FOREIGN KEY (copied_from_id) REFERENCES public.dealer_order(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.dealer_order
    ADD CONSTRAINT dealer_order_created_by_id_fkey FOREIGN KEY (created_by_id) REFERENCES public.staff(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.dealer_order
    ADD CONSTRAINT dealer_order_dealer_id_fkey FOREIGN KEY (dealer_id) REFERENCES public.org_unit(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.dealer_order_event
    ADD CONSTRAINT dealer_order_event_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.dealer_order_event
    ADD CONSTRAINT dealer_order_event_order_id_fkey FOREIGN KEY (order_id) REFERENCES public.dealer_order(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.dealer_order_line
    ADD CONSTRAINT dealer_order_line_order_id_fkey FOREIGN KEY (order_id) REFERENCES public.dealer_order(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.dealer_order_line
    ADD CONSTRAINT dealer_order_line_product_id_fkey FOREIGN KEY (product_id) REFERENCES public.product(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.dealer_order
    ADD CONSTRAINT dealer_order_warehouse_id_fkey FOREIGN KEY (warehouse_id) REFERENCES public.warehouse(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.dealer_piece
    ADD CONSTRAINT dealer_piece_line_id_fkey FOREIGN KEY (line_id) REFERENCES public.dealer_order_line(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.dealer_piece
    ADD CONSTRAINT dealer_piece_order_id_fkey FOREIGN KEY (order_id) REFERENCES public.dealer_order(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.external_contact
    ADD CONSTRAINT external_contact_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES public.customer(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.external_contact
    ADD CONSTRAINT external_contact_member_id_fkey FOREIGN KEY (member_id) REFERENCES public.staff(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.external_contact
    ADD CONSTRAINT external_contact_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.idempotency_key
    ADD CONSTRAINT idempotency_key_token_id_fkey FOREIGN KEY (token_id) REFERENCES public.service_token(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.invoice
    ADD CONSTRAINT invoice_issued_by_id_fkey FOREIGN KEY (issued_by_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.invoice
    ADD CONSTRAINT invoice_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.lead
    ADD CONSTRAINT lead_consultant_id_fkey FOREIGN KEY (consultant_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.lead
    ADD CONSTRAINT lead_created_by_id_fkey FOREIGN KEY (created_by_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.lead_event
    ADD CONSTRAINT lead_event_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.lead_event
    ADD CONSTRAINT lead_event_lead_id_fkey FOREIGN KEY (lead_id) REFERENCES public.lead(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.lead_event
    ADD CONSTRAINT lead_event_staff_id_fkey FOREIGN KEY (staff_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.lead
    ADD CONSTRAINT lead_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.lead
    ADD CONSTRAINT lead_store_id_fkey FOREIGN KEY (store_id) REFERENCES public.org_unit(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.news
    ADD CONSTRAINT news_author_id_fkey FOREIGN KEY (author_id) REFERENCES public.staff(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.news_delivery
    ADD CONSTRAINT news_delivery_news_id_fkey FOREIGN KEY (news_id) REFERENCES public.news(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.news_delivery
    ADD CONSTRAINT news_delivery_staff_id_fkey FOREIGN KEY (staff_id) REFERENCES public.staff(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.news
    ADD CONSTRAINT news_withdrawn_by_id_fkey FOREIGN KEY (withdrawn_by_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public."order"
    ADD CONSTRAINT order_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES public.customer(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.order_event
    ADD CONSTRAINT order_event_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.order_event
    ADD CONSTRAINT order_event_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.order_item
    ADD CONSTRAINT order_item_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.order_item
    ADD CONSTRAINT order_item_product_id_fkey FOREIGN KEY (product_id) REFERENCES public.product(id) ON DELETE SET NULL;
ALTER TABLE ONLY public."order"
    ADD CONSTRAINT order_org_unit_id_fkey FOREIGN KEY (org_unit_id) REFERENCES public.org_unit(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.order_piece
    ADD CONSTRAINT order_piece_item_id_fkey FOREIGN KEY (item_id) REFERENCES public.order_item(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.order_piece
    ADD CONSTRAINT order_piece_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.order_piece
    ADD CONSTRAINT order_piece_received_by_id_fkey FOREIGN KEY (received_by_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public."order"
    ADD CONSTRAINT order_sales_id_fkey FOREIGN KEY (sales_id) REFERENCES public.staff(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.org_unit
    ADD CONSTRAINT org_unit_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES public.org_unit(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.payment
    ADD CONSTRAINT payment_confirmed_by_id_fkey FOREIGN KEY (confirmed_by_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.payment
    ADD CONSTRAINT payment_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.payment
    ADD CONSTRAINT payment_recorded_by_id_fkey FOREIGN KEY (recorded_by_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.payment
    ADD CONSTRAINT payment_voided_by_id_fkey FOREIGN KEY (voided_by_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.price_list_entry
    ADD CONSTRAINT price_list_entry_price_list_id_fkey FOREIGN KEY (price_list_id) REFERENCES public.price_list(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.price_list_entry
    ADD CONSTRAINT price_list_entry_product_id_fkey FOREIGN KEY (product_id) REFERENCES public.product(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.price_list
    ADD CONSTRAINT price_list_org_unit_id_fkey FOREIGN KEY (org_unit_id) REFERENCES public.org_unit(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.service_token
    ADD CONSTRAINT service_token_created_by_id_fkey FOREIGN KEY (created_by_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.service_token
    ADD CONSTRAINT service_token_staff_id_fkey FOREIGN KEY (staff_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.signature
    ADD CONSTRAINT signature_attachment_id_fkey FOREIGN KEY (attachment_id) REFERENCES public.attachment(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.signature
    ADD CONSTRAINT signature_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.sms_message
    ADD CONSTRAINT sms_message_lead_id_fkey FOREIGN KEY (lead_id) REFERENCES public.lead(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.sms_message
    ADD CONSTRAINT sms_message_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.staff
    ADD CONSTRAINT staff_org_unit_id_fkey FOREIGN KEY (org_unit_id) REFERENCES public.org_unit(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.stock_level
    ADD CONSTRAINT stock_level_product_id_fkey FOREIGN KEY (product_id) REFERENCES public.product(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.stock_level
    ADD CONSTRAINT stock_level_warehouse_id_fkey FOREIGN KEY (warehouse_id) REFERENCES public.warehouse(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.stock_move
    ADD CONSTRAINT stock_move_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.stock_move
    ADD CONSTRAINT stock_move_product_id_fkey FOREIGN KEY (product_id) REFERENCES public.product(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.stock_move
    ADD CONSTRAINT stock_move_warehouse_id_fkey FOREIGN KEY (warehouse_id) REFERENCES public.warehouse(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.task
    ADD CONSTRAINT task_assigned_by_id_fkey FOREIGN KEY (assigned_by_id) REFERENCES public.staff(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.task
    ADD CONSTRAINT task_assignee_id_fkey FOREIGN KEY (assignee_id) REFERENCES public.staff(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.task
    ADD CONSTRAINT task_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.ticket
    ADD CONSTRAINT ticket_assigned_by_id_fkey FOREIGN KEY (assigned_by_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.ticket
    ADD CONSTRAINT ticket_assignee_id_fkey FOREIGN KEY (assignee_id) REFERENCES public.staff(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.ticket
    ADD CONSTRAINT ticket_opened_by_id_fkey FOREIGN KEY (opened_by_id) REFERENCES public.staff(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.ticket
    ADD CONSTRAINT ticket_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.visit
    ADD CONSTRAINT visit_caller_id_fkey FOREIGN KEY (caller_id) REFERENCES public.staff(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.visit
    ADD CONSTRAINT visit_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.visit
    ADD CONSTRAINT visit_task_id_fkey FOREIGN KEY (task_id) REFERENCES public.task(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.warehouse
    ADD CONSTRAINT warehouse_org_unit_id_fkey FOREIGN KEY (org_unit_id) REFERENCES public.org_unit(id) ON DELETE RESTRICT;
ALTER TABLE ONLY public.webhook_delivery
    ADD CONSTRAINT webhook_delivery_subscription_id_fkey FOREIGN KEY (subscription_id) REFERENCES public.webhook_subscription(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.webhook_subscription
    ADD CONSTRAINT webhook_subscription_created_by_id_fkey FOREIGN KEY (created_by_id) REFERENCES public.staff(id) ON DELETE SET NULL;
