-- relay schema: 0027_dealers; migrations sha256 c950130825bad743db0bb32da070bd9fee167fd2044d4f09e724858f2139d2e6
CREATE TABLE "tortoise_migrations" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "app" VARCHAR(255) NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "applied_at" TIMESTAMP NOT NULL,
    CONSTRAINT "uid_tortoise_mi_app_3803a5" UNIQUE ("app", "name")
);
CREATE TABLE "customer" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "name" VARCHAR(64) NOT NULL,
    "phone_encrypted" TEXT NOT NULL,
    "phone_index" VARCHAR(64) NOT NULL,
    "created_at" TIMESTAMP NOT NULL
, "erased_at" TIMESTAMP);
CREATE INDEX "idx_customer_phone_i_cf7c6a" ON "customer" ("phone_index");
CREATE TABLE "inbox" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "dedupe_key" VARCHAR(255) NOT NULL UNIQUE,
    "userid" VARCHAR(64) NOT NULL,
    "msg_type" VARCHAR(32) NOT NULL,
    "payload" JSON NOT NULL,
    "state" VARCHAR(16) NOT NULL  /* PENDING: pending\nDONE: done\nFAILED: failed */,
    "attempts" INT NOT NULL,
    "locked_until" TIMESTAMP,
    "last_error" TEXT NOT NULL,
    "received_at" TIMESTAMP NOT NULL,
    "processed_at" TIMESTAMP
, "purged_at" TIMESTAMP);
CREATE INDEX "idx_inbox_state_a1546a" ON "inbox" ("state");
CREATE TABLE "org_unit" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "name" VARCHAR(100) NOT NULL,
    "path" VARCHAR(255) NOT NULL,
    "parent_id" INT REFERENCES "org_unit" ("id") ON DELETE RESTRICT, "address" VARCHAR(255) NOT NULL DEFAULT '', "active" INT NOT NULL DEFAULT 1, "wecom_department_id" INT, "kind" VARCHAR(16) NOT NULL  /* OWN: own\nDEALER: dealer */ DEFAULT 'own',
    CONSTRAINT "uid_org_unit_parent__1e505b" UNIQUE ("parent_id", "name")
);
CREATE INDEX "idx_org_unit_path_8aebd4" ON "org_unit" ("path");
CREATE TABLE "outbox" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "kind" VARCHAR(16) NOT NULL  /* SEND: send\nUPDATE_CARD: update_card */,
    "payload" JSON NOT NULL,
    "card_task_id" VARCHAR(128),
    "state" VARCHAR(16) NOT NULL  /* PENDING: pending\nDONE: done\nFAILED: failed */,
    "attempts" INT NOT NULL,
    "next_attempt_at" TIMESTAMP NOT NULL,
    "locked_until" TIMESTAMP,
    "last_error" TEXT NOT NULL,
    "msgid" VARCHAR(128) NOT NULL,
    "response_code" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "sent_at" TIMESTAMP
, "purged_at" TIMESTAMP, "priority" SMALLINT NOT NULL, "media_id" VARCHAR(128) NOT NULL, "media_uploaded_at" TIMESTAMP, "content_key" VARCHAR(64) NOT NULL);
CREATE INDEX "idx_outbox_card_ta_3ebec2" ON "outbox" ("card_task_id");
CREATE INDEX "idx_outbox_state_a7e990" ON "outbox" ("state");
CREATE INDEX "idx_outbox_next_at_59be67" ON "outbox" ("next_attempt_at");
CREATE TABLE "product" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "series" VARCHAR(64) NOT NULL,
    "model" VARCHAR(64) NOT NULL,
    "name" VARCHAR(128) NOT NULL,
    "active" INT NOT NULL, "install_photo_min" INT NOT NULL, "maintenance_months" INT NOT NULL, "list_price" VARCHAR(40), "unit" VARCHAR(16) NOT NULL DEFAULT '件', "image_content_type" VARCHAR(100), "image_sha256" VARCHAR(64), "specs" JSON NOT NULL DEFAULT '{}', "production_days" INT NOT NULL DEFAULT 15, "stock_kind" VARCHAR(16)   /* STANDARD: standard\nACCESSORY: accessory\nMARKETING: marketing */,
    CONSTRAINT "uid_product_series_7a71c6" UNIQUE ("series", "model")
);
CREATE TABLE "staff" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "userid" VARCHAR(64) NOT NULL UNIQUE,
    "name" VARCHAR(64) NOT NULL,
    "roles" JSON NOT NULL,
    "active" INT NOT NULL,
    "score" REAL,
    "created_at" TIMESTAMP NOT NULL,
    "org_unit_id" INT NOT NULL REFERENCES "org_unit" ("id") ON DELETE RESTRICT
, "left_at" TIMESTAMP, "tag_roles" JSON NOT NULL DEFAULT '[]');
CREATE TABLE "order" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "number" VARCHAR(32) NOT NULL UNIQUE,
    "address" VARCHAR(255) NOT NULL,
    "state" VARCHAR(32) NOT NULL  /* CREATED: created\nMEASURE_SCHEDULED: measure_scheduled\nMEASURED: measured\nDESIGNED: designed\nCONFIRMED: confirmed\nIN_STOCK: in_stock\nINSTALL_SCHEDULED: install_scheduled\nINSTALLED: installed\nSIGNED: signed\nVISITED: visited\nCANCELLED: cancelled */,
    "expected_measure_date" DATE,
    "note" TEXT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "customer_id" INT NOT NULL REFERENCES "customer" ("id") ON DELETE RESTRICT,
    "org_unit_id" INT NOT NULL REFERENCES "org_unit" ("id") ON DELETE RESTRICT,
    "sales_id" INT NOT NULL REFERENCES "staff" ("id") ON DELETE RESTRICT
, "cancel_reason" VARCHAR(255) NOT NULL, "contract_amount" VARCHAR(40), "confirmed_at" TIMESTAMP, "designed_at" TIMESTAMP, "in_stock_at" TIMESTAMP, "installed_at" TIMESTAMP, "measured_at" TIMESTAMP, "signed_at" TIMESTAMP, "state_since" TIMESTAMP, "visited_at" TIMESTAMP, "cancelled_at" TIMESTAMP, "cancelled_from" VARCHAR(32)   /* CREATED: created\nMEASURE_SCHEDULED: measure_scheduled\nMEASURED: measured\nDESIGNED: designed\nCONFIRMED: confirmed\nIN_STOCK: in_stock\nINSTALL_SCHEDULED: install_scheduled\nINSTALLED: installed\nSIGNED: signed\nVISITED: visited\nCANCELLED: cancelled */, "approval_state" VARCHAR(16)   /* PENDING: pending\nAPPROVED: approved\nREJECTED: rejected */, "discount_amount" VARCHAR(40) NOT NULL DEFAULT 0, "list_amount" VARCHAR(40), "production_order_number" VARCHAR(32), "released_at" TIMESTAMP, "paid_amount" VARCHAR(40) NOT NULL DEFAULT 0, "customer_link_version" INT NOT NULL DEFAULT 0);
CREATE INDEX "idx_order_state_c60baf" ON "order" ("state");
CREATE INDEX "idx_order_created_a653c8" ON "order" ("created_at");
CREATE TABLE "order_event" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "kind" VARCHAR(32) NOT NULL,
    "payload" JSON NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "actor_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    "order_id" INT NOT NULL REFERENCES "order" ("id") ON DELETE CASCADE
);
CREATE INDEX "idx_order_event_created_7f6b30" ON "order_event" ("created_at");
CREATE TABLE "task" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "kind" VARCHAR(16) NOT NULL  /* MEASURE: measure\nINSTALL: install\nVISIT: visit */,
    "state" VARCHAR(16) NOT NULL  /* ASSIGNED: assigned\nACCEPTED: accepted\nDECLINED: declined\nDONE: done\nCANCELLED: cancelled */,
    "scheduled_date" DATE NOT NULL,
    "decline_reason" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "assigned_by_id" INT REFERENCES "staff" ("id") ON DELETE RESTRICT,
    "assignee_id" INT REFERENCES "staff" ("id") ON DELETE RESTRICT,
    "order_id" INT NOT NULL REFERENCES "order" ("id") ON DELETE CASCADE
, "done_at" TIMESTAMP, "superseded" INT NOT NULL);
CREATE INDEX "idx_task_state_459788" ON "task" ("state");
CREATE INDEX "idx_task_schedul_730990" ON "task" ("scheduled_date");
CREATE TABLE "job" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "kind" VARCHAR(32) NOT NULL,
    "key" VARCHAR(255) NOT NULL UNIQUE,
    "due_at" TIMESTAMP NOT NULL,
    "payload" JSON NOT NULL,
    "state" VARCHAR(16) NOT NULL  /* PENDING: pending\nDONE: done\nFAILED: failed */,
    "attempts" INT NOT NULL,
    "locked_until" TIMESTAMP,
    "last_error" TEXT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "done_at" TIMESTAMP
);
CREATE INDEX "idx_job_kind_bc9481" ON "job" ("kind");
CREATE INDEX "idx_job_due_at_d8ad5e" ON "job" ("due_at");
CREATE INDEX "idx_job_state_c9e4ce" ON "job" ("state");
CREATE TABLE "payment" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "amount" VARCHAR(40) NOT NULL,
    "method" VARCHAR(16) NOT NULL  /* CASH: cash\nWECHAT: wechat\nALIPAY: alipay\nCARD: card\nTRANSFER: transfer */,
    "kind" VARCHAR(16) NOT NULL  /* DEPOSIT: deposit\nFULL: full\nBALANCE: balance */,
    "note" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "order_id" INT NOT NULL REFERENCES "order" ("id") ON DELETE CASCADE,
    "recorded_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL
, "voided_at" TIMESTAMP, "voided_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL, "void_reason" VARCHAR(255), "confirmed_at" TIMESTAMP, "confirmed_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL);
CREATE TABLE "signature" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "ip" VARCHAR(64) NOT NULL,
    "user_agent" VARCHAR(255) NOT NULL,
    "signed_at" TIMESTAMP NOT NULL,
    "attachment_id" INT NOT NULL REFERENCES "attachment" ("id") ON DELETE RESTRICT,
    "order_id" INT NOT NULL UNIQUE REFERENCES "order" ("id") ON DELETE CASCADE
);
CREATE TABLE "visit" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "reached" INT NOT NULL,
    "notes" TEXT NOT NULL,
    "score_sales" INT,
    "score_measurer" INT,
    "score_installer" INT,
    "comment_sales" VARCHAR(255) NOT NULL,
    "comment_measurer" VARCHAR(255) NOT NULL,
    "comment_installer" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "caller_id" INT NOT NULL REFERENCES "staff" ("id") ON DELETE RESTRICT,
    "order_id" INT NOT NULL REFERENCES "order" ("id") ON DELETE CASCADE,
    "task_id" INT REFERENCES "task" ("id") ON DELETE SET NULL
);
CREATE INDEX "idx_visit_created_367c96" ON "visit" ("created_at");
CREATE TABLE "alert" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "rule" VARCHAR(32) NOT NULL,
    "detail" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "handled_at" TIMESTAMP,
    "handled_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    "order_id" INT NOT NULL REFERENCES "order" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_alert_order_i_2c5e54" UNIQUE ("order_id", "rule")
);
CREATE INDEX "idx_alert_created_547878" ON "alert" ("created_at");
CREATE INDEX "idx_order_org_uni_848ab0" ON "order" ("org_unit_id", "state");
CREATE INDEX "idx_order_measure_7cdf4b" ON "order" ("measured_at");
CREATE INDEX "idx_order_designe_5a7907" ON "order" ("designed_at");
CREATE INDEX "idx_order_confirm_ceac80" ON "order" ("confirmed_at");
CREATE INDEX "idx_order_in_stoc_b212d2" ON "order" ("in_stock_at");
CREATE INDEX "idx_order_install_5b8a7d" ON "order" ("installed_at");
CREATE INDEX "idx_order_event_order_i_bd254e" ON "order_event" ("order_id");
CREATE INDEX "idx_payment_order_i_6caf54" ON "payment" ("order_id");
CREATE INDEX "idx_task_order_i_997f45" ON "task" ("order_id");
CREATE INDEX "idx_task_assigne_5d0ed1" ON "task" ("assignee_id", "state");
CREATE INDEX "idx_visit_order_i_27ea51" ON "visit" ("order_id");
CREATE TABLE "order_item" ("id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "order_id" INT NOT NULL REFERENCES "order" ("id") ON DELETE CASCADE, "product_id" INT REFERENCES "product" ("id") ON DELETE SET NULL, "series" VARCHAR(64) NOT NULL, "model" VARCHAR(64) NOT NULL, "room" VARCHAR(64) NOT NULL, "quantity" INT NOT NULL, "amount" VARCHAR(40), "list_price" VARCHAR(40), "unit_price" VARCHAR(40));
CREATE INDEX "idx_order_item_order_i_a417da" ON "order_item" ("order_id");
CREATE TABLE "order_piece" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "seq" INT NOT NULL,
    "production_number" VARCHAR(64)  UNIQUE,
    "state" VARCHAR(16) NOT NULL  /* QUEUED: queued\nIN_PRODUCTION: in_production\nFINISHED: finished\nSHIPPED: shipped\nIN_STOCK: in_stock\nINSTALLED: installed */,
    "arrived_at" TIMESTAMP,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "item_id" INT NOT NULL REFERENCES "order_item" ("id") ON DELETE CASCADE,
    "order_id" INT NOT NULL REFERENCES "order" ("id") ON DELETE CASCADE,
    "received_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL, "expected_date" DATE, "state_since" TIMESTAMP,
    CONSTRAINT "uid_order_piece_item_id_e11bcd" UNIQUE ("item_id", "seq")
);
CREATE INDEX "idx_order_piece_order_i_844004" ON "order_piece" ("order_id", "state");
CREATE INDEX "idx_order_org_uni_397dc0" ON "order" ("org_unit_id", "created_at");
CREATE INDEX "idx_order_org_uni_58afc9" ON "order" ("org_unit_id", "measured_at");
CREATE INDEX "idx_order_org_uni_c8ef4a" ON "order" ("org_unit_id", "designed_at");
CREATE INDEX "idx_order_org_uni_b88567" ON "order" ("org_unit_id", "confirmed_at");
CREATE INDEX "idx_order_org_uni_1f9fb1" ON "order" ("org_unit_id", "in_stock_at");
CREATE INDEX "idx_order_org_uni_df54c5" ON "order" ("org_unit_id", "installed_at");
CREATE TABLE "price_list" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "name" VARCHAR(64) NOT NULL,
    "valid_from" DATE NOT NULL,
    "valid_to" DATE,
    "created_at" TIMESTAMP NOT NULL,
    "org_unit_id" INT REFERENCES "org_unit" ("id") ON DELETE RESTRICT
);
CREATE INDEX "idx_price_list_org_uni_6ec570" ON "price_list" ("org_unit_id", "valid_from");
CREATE TABLE "price_list_entry" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "price" VARCHAR(40) NOT NULL,
    "price_list_id" INT NOT NULL REFERENCES "price_list" ("id") ON DELETE CASCADE,
    "product_id" INT NOT NULL REFERENCES "product" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_price_list__price_l_a6f53e" UNIQUE ("price_list_id", "product_id")
);
CREATE TABLE "approval" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "round" INT NOT NULL,
    "step" INT NOT NULL,
    "level" VARCHAR(16) NOT NULL,
    "figures" JSON NOT NULL,
    "state" VARCHAR(16) NOT NULL  /* PENDING: pending\nAPPROVED: approved\nREJECTED: rejected */,
    "superseded" INT NOT NULL,
    "decided_at" TIMESTAMP,
    "reason" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "decided_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    "order_id" INT NOT NULL REFERENCES "order" ("id") ON DELETE CASCADE,
    "requested_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    "unit_id" INT NOT NULL REFERENCES "org_unit" ("id") ON DELETE RESTRICT
);
CREATE INDEX "idx_approval_order_i_50eea7" ON "approval" ("order_id", "state");
CREATE INDEX "idx_approval_unit_id_0589c8" ON "approval" ("unit_id", "state");
CREATE TABLE "invoice" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "number" VARCHAR(32) NOT NULL UNIQUE,
    "amount" VARCHAR(40) NOT NULL,
    "issued_on" DATE NOT NULL,
    "buyer_tax_id" VARCHAR(20) NOT NULL,
    "file_sha256" VARCHAR(64),
    "file_type" VARCHAR(100),
    "filename" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "voided_at" TIMESTAMP,
    "void_reason" VARCHAR(255),
    "issued_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    "order_id" INT NOT NULL REFERENCES "order" ("id") ON DELETE CASCADE
);
CREATE INDEX "idx_invoice_order_i_6a812d" ON "invoice" ("order_id");
CREATE TABLE "service_token" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "name" VARCHAR(64) NOT NULL,
    "scopes" VARCHAR(255) NOT NULL,
    "secret_hash" VARCHAR(64) NOT NULL UNIQUE,
    "created_at" TIMESTAMP NOT NULL,
    "revoked_at" TIMESTAMP,
    "last_used_at" TIMESTAMP,
    "created_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL
, "staff_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL);
CREATE UNIQUE INDEX "uid_order_product_c9d076" ON "order" ("production_order_number");
CREATE INDEX "idx_payment_standing_order" ON "payment" ("order_id", "amount") WHERE "voided_at" IS NULL;
CREATE INDEX "idx_payment_created_at" ON "payment" ("created_at");
CREATE INDEX "idx_order_owing" ON "order" ("org_unit_id", "confirmed_at", "contract_amount", "paid_amount") WHERE "state" <> 'cancelled' AND "contract_amount" - "paid_amount" > 0;
CREATE TABLE "lead" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "number" VARCHAR(32) NOT NULL UNIQUE,
    "name" VARCHAR(64) NOT NULL,
    "phone_encrypted" TEXT NOT NULL,
    "phone_index" VARCHAR(64) NOT NULL,
    "need_level" VARCHAR(8) NOT NULL,
    "product_ids" JSON NOT NULL,
    "products" VARCHAR(255) NOT NULL,
    "wanted_at" TIMESTAMP,
    "note" VARCHAR(500) NOT NULL,
    "source" VARCHAR(16) NOT NULL  /* STAFF: staff\nPUBLIC: public\nAPI: api\nCSV: csv */,
    "state" VARCHAR(16) NOT NULL  /* NEW: new\nASSIGNED: assigned\nCLAIMED: claimed\nARRIVED: arrived\nPAUSED: paused\nFOLLOW_UP: follow_up\nWON: won\nNOT_WON: not_won\nNO_SHOW: no_show\nVOID: void */,
    "state_since" TIMESTAMP,
    "assigned_at" TIMESTAMP,
    "rejections" INT NOT NULL,
    "transfers" INT NOT NULL,
    "decided_at" TIMESTAMP,
    "outcome_reason" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "consultant_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    "created_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    "order_id" INT REFERENCES "order" ("id") ON DELETE SET NULL,
    "store_id" INT NOT NULL REFERENCES "org_unit" ("id") ON DELETE RESTRICT
);
CREATE INDEX "idx_lead_phone_i_f8e014" ON "lead" ("phone_index");
CREATE INDEX "idx_lead_store_i_9e9bd1" ON "lead" ("store_id", "state");
CREATE INDEX "idx_lead_consult_5574bf" ON "lead" ("consultant_id", "state");
CREATE INDEX "idx_lead_consult_4570c1" ON "lead" ("consultant_id", "assigned_at");
CREATE TABLE "lead_event" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "kind" VARCHAR(16) NOT NULL  /* CREATED: created\nASSIGNED: assigned\nCLAIMED: claimed\nREJECTED: rejected\nTRANSFERRED: transferred\nPAUSED: paused\nARRIVED: arrived\nFOLLOW_UP: follow_up\nWON: won\nNOT_WON: not_won\nNO_SHOW: no_show\nVOIDED: voided\nREASSIGNED: reassigned */,
    "text" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "actor_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    "lead_id" INT NOT NULL REFERENCES "lead" ("id") ON DELETE CASCADE,
    "staff_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL
);
CREATE INDEX "idx_lead_event_lead_id_6cf526" ON "lead_event" ("lead_id", "id");
CREATE TABLE "customer_request" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "kind" VARCHAR(16) NOT NULL  /* MEASURE: measure\nINSTALL: install\nVISIT: visit */,
    "booked_date" DATE NOT NULL,
    "wanted_date" DATE NOT NULL,
    "wanted_part" VARCHAR(16) NOT NULL  /* MORNING: morning\nAFTERNOON: afternoon\nANY: any */,
    "note" VARCHAR(200) NOT NULL,
    "state" VARCHAR(16) NOT NULL  /* OPEN: open\nHANDLED: handled */,
    "created_at" TIMESTAMP NOT NULL,
    "handled_at" TIMESTAMP,
    "handled_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    "order_id" INT NOT NULL REFERENCES "order" ("id") ON DELETE CASCADE,
    "task_id" INT REFERENCES "task" ("id") ON DELETE SET NULL
);
CREATE INDEX "idx_customer_re_order_i_8af323" ON "customer_request" ("order_id", "state");
CREATE TABLE "contact_way" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "state_key" VARCHAR(30) NOT NULL UNIQUE,
    "config_id" VARCHAR(64) NOT NULL,
    "qr_code" VARCHAR(512) NOT NULL,
    "call_state" VARCHAR(16) NOT NULL  /* QUEUED: queued\nSENDING: sending\nDONE: done\nFAILED: failed\nUNKNOWN: unknown */,
    "attempts" INT NOT NULL,
    "next_attempt_at" TIMESTAMP NOT NULL,
    "locked_until" TIMESTAMP,
    "last_error" VARCHAR(512) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "member_id" INT NOT NULL REFERENCES "staff" ("id") ON DELETE CASCADE,
    "order_id" INT NOT NULL REFERENCES "order" ("id") ON DELETE CASCADE
);
CREATE INDEX "idx_contact_way_call_st_8953d3" ON "contact_way" ("call_state");
CREATE TABLE "customer_message" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "external_userid" VARCHAR(64) NOT NULL,
    "milestone" VARCHAR(32) NOT NULL,
    "text" TEXT NOT NULL,
    "link" VARCHAR(1024) NOT NULL,
    "month" VARCHAR(7) NOT NULL,
    "slot" SMALLINT,
    "msgid" VARCHAR(128) NOT NULL,
    "call_state" VARCHAR(16) NOT NULL  /* QUEUED: queued\nSENDING: sending\nDONE: done\nFAILED: failed\nUNKNOWN: unknown */,
    "attempts" INT NOT NULL,
    "next_attempt_at" TIMESTAMP NOT NULL,
    "locked_until" TIMESTAMP,
    "last_error" VARCHAR(512) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "customer_id" INT NOT NULL REFERENCES "customer" ("id") ON DELETE CASCADE,
    "order_id" INT NOT NULL REFERENCES "order" ("id") ON DELETE CASCADE,
    "sender_id" INT NOT NULL REFERENCES "staff" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_customer_me_custome_e13bdc" UNIQUE ("customer_id", "month", "slot")
);
CREATE INDEX "idx_customer_me_call_st_15eeea" ON "customer_message" ("call_state");
CREATE TABLE "external_contact" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "external_userid" VARCHAR(64) NOT NULL,
    "added_at" TIMESTAMP NOT NULL,
    "welcome_code" VARCHAR(255) NOT NULL,
    "welcome_deadline" TIMESTAMP,
    "welcome_state" VARCHAR(16) NOT NULL  /* QUEUED: queued\nSENDING: sending\nDONE: done\nFAILED: failed\nUNKNOWN: unknown */,
    "welcome_payload" JSON NOT NULL,
    "attempts" INT NOT NULL,
    "locked_until" TIMESTAMP,
    "last_error" VARCHAR(512) NOT NULL,
    "customer_id" INT NOT NULL REFERENCES "customer" ("id") ON DELETE CASCADE,
    "member_id" INT NOT NULL REFERENCES "staff" ("id") ON DELETE CASCADE,
    "order_id" INT REFERENCES "order" ("id") ON DELETE SET NULL,
    CONSTRAINT "uid_external_co_externa_afa5bc" UNIQUE ("external_userid", "member_id")
);
CREATE INDEX "idx_external_co_welcome_31de6b" ON "external_contact" ("welcome_state");
CREATE TABLE "sms_message" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "phone_encrypted" TEXT NOT NULL,
    "template" VARCHAR(64) NOT NULL,
    "params" JSON NOT NULL,
    "purpose" VARCHAR(64) NOT NULL,
    "state" VARCHAR(16) NOT NULL  /* QUEUED: queued\nSENDING: sending\nDONE: done\nFAILED: failed\nUNKNOWN: unknown */,
    "attempts" INT NOT NULL,
    "next_attempt_at" TIMESTAMP NOT NULL,
    "locked_until" TIMESTAMP,
    "last_error" VARCHAR(512) NOT NULL,
    "provider_serial" VARCHAR(128) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "sent_at" TIMESTAMP,
    "lead_id" INT REFERENCES "lead" ("id") ON DELETE SET NULL,
    "order_id" INT REFERENCES "order" ("id") ON DELETE SET NULL
);
CREATE INDEX "idx_sms_message_state_ee4f49" ON "sms_message" ("state");
CREATE INDEX "idx_sms_message_next_at_29fadd" ON "sms_message" ("next_attempt_at");
CREATE TABLE "ticket" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "number" VARCHAR(32) NOT NULL UNIQUE,
    "kind" VARCHAR(16) NOT NULL  /* REPAIR: repair\nCOMPLAINT: complaint\nMAINTENANCE: maintenance */,
    "source" VARCHAR(16) NOT NULL  /* CUSTOMER: customer\nCHAT: chat\nSTAFF_H5: staff_h5\nLOW_SCORE: low_score\nSCHEDULE: schedule */,
    "description" TEXT NOT NULL,
    "state" VARCHAR(16) NOT NULL  /* OPEN: open\nDISPATCHED: dispatched\nACCEPTED: accepted\nDONE: done\nCONFIRMED: confirmed\nCLOSED: closed\nCANCELLED: cancelled */,
    "state_since" TIMESTAMP,
    "deadline" TIMESTAMP NOT NULL,
    "scheduled_date" DATE,
    "decline_reason" VARCHAR(255) NOT NULL,
    "resolution" VARCHAR(500) NOT NULL,
    "done_at" TIMESTAMP,
    "confirmed_at" TIMESTAMP,
    "confirm_comment" VARCHAR(500) NOT NULL,
    "overdue_alerted_at" TIMESTAMP,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "assigned_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    "assignee_id" INT REFERENCES "staff" ("id") ON DELETE RESTRICT,
    "opened_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    "order_id" INT NOT NULL REFERENCES "order" ("id") ON DELETE CASCADE
);
CREATE INDEX "idx_ticket_state_187c2d" ON "ticket" ("state");
CREATE INDEX "idx_ticket_deadlin_0ca3b3" ON "ticket" ("deadline");
CREATE INDEX "idx_ticket_order_i_7609f8" ON "ticket" ("order_id", "state");
CREATE INDEX "idx_ticket_assigne_05eeb0" ON "ticket" ("assignee_id", "state");
CREATE TABLE "attachment" ("id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "order_id" INT NOT NULL REFERENCES "order" ("id") ON DELETE CASCADE, "task_id" INT REFERENCES "task" ("id") ON DELETE SET NULL, "category" VARCHAR(32) NOT NULL, "sha256" VARCHAR(64) NOT NULL, "content_type" VARCHAR(100) NOT NULL, "size" INT NOT NULL, "filename" VARCHAR(255) NOT NULL, "has_thumbnail" INT NOT NULL, "uploader_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL, "media_id" VARCHAR(255)  UNIQUE, "created_at" TIMESTAMP NOT NULL, "removed_at" TIMESTAMP, "removed_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL, "remove_reason" VARCHAR(255), "ticket_id" INT REFERENCES "ticket" ("id") ON DELETE SET NULL);
CREATE INDEX "idx_attachment_order_i_d599fe" ON "attachment" ("order_id", "category");
CREATE INDEX "idx_attachment_ticket" ON "attachment" ("ticket_id");
CREATE TABLE "news" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "title" VARCHAR(64) NOT NULL,
    "body" TEXT NOT NULL,
    "kind" VARCHAR(16) NOT NULL  /* NEWS: news\nPROMOTION: promotion\nPRICE_LIST: price_list */,
    "roles" JSON NOT NULL,
    "unit_ids" JSON NOT NULL,
    "file_sha256" VARCHAR(64),
    "file_name" VARCHAR(128) NOT NULL,
    "file_type" VARCHAR(128) NOT NULL,
    "file_size" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "withdrawn_at" TIMESTAMP,
    "author_id" INT NOT NULL REFERENCES "staff" ("id") ON DELETE RESTRICT,
    "withdrawn_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL
);
CREATE INDEX "idx_news_kind_095ab5" ON "news" ("kind");
CREATE INDEX "idx_news_created_870aae" ON "news" ("created_at");
CREATE TABLE "news_delivery" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "card_task_id" VARCHAR(128) NOT NULL,
    "read_at" TIMESTAMP,
    "news_id" INT NOT NULL REFERENCES "news" ("id") ON DELETE CASCADE,
    "staff_id" INT NOT NULL REFERENCES "staff" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_news_delive_news_id_6edb0a" UNIQUE ("news_id", "staff_id")
);
CREATE INDEX "idx_news_delive_card_ta_e3a081" ON "news_delivery" ("card_task_id");
CREATE INDEX "idx_news_delive_staff_i_ad14ef" ON "news_delivery" ("staff_id", "read_at");
CREATE TABLE "alert_threshold" (
    "rule" VARCHAR(32) NOT NULL  PRIMARY KEY,
    "threshold" INT NOT NULL,
    "updated_at" TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX "uid_org_unit_wecom_d_f232f1" ON "org_unit" ("wecom_department_id");
CREATE TABLE "warehouse" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "name" VARCHAR(64) NOT NULL UNIQUE,
    "active" INT NOT NULL,
    "org_unit_id" INT NOT NULL REFERENCES "org_unit" ("id") ON DELETE RESTRICT
);
CREATE TABLE "stock_level" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "on_hand" INT NOT NULL,
    "reserved" INT NOT NULL,
    "safety_level" INT NOT NULL,
    "below_safety" INT NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "product_id" INT NOT NULL REFERENCES "product" ("id") ON DELETE RESTRICT,
    "warehouse_id" INT NOT NULL REFERENCES "warehouse" ("id") ON DELETE RESTRICT,
    CONSTRAINT "uid_stock_level_product_48cc1e" UNIQUE ("product_id", "warehouse_id")
);
CREATE INDEX "idx_stock_level_warehou_5da6d8" ON "stock_level" ("warehouse_id");
CREATE TABLE "stock_move" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "kind" VARCHAR(16) NOT NULL  /* RECEIVED: received\nRESERVED: reserved\nRELEASED: released\nISSUED: issued\nRETURNED: returned\nCOUNTED: counted */,
    "quantity" INT NOT NULL,
    "on_hand_after" INT NOT NULL,
    "reserved_after" INT NOT NULL,
    "reason" VARCHAR(255) NOT NULL,
    "ref" VARCHAR(64) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "actor_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    "product_id" INT NOT NULL REFERENCES "product" ("id") ON DELETE RESTRICT,
    "warehouse_id" INT NOT NULL REFERENCES "warehouse" ("id") ON DELETE RESTRICT
);
CREATE INDEX "idx_stock_move_product_a106c2" ON "stock_move" ("product_id", "warehouse_id", "created_at");
CREATE INDEX "idx_stock_move_ref_91be6d" ON "stock_move" ("ref");
CREATE TABLE "idempotency_key" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "key" VARCHAR(255) NOT NULL,
    "fingerprint" VARCHAR(64) NOT NULL,
    "status" SMALLINT NOT NULL,
    "response" JSON NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "expires_at" TIMESTAMP NOT NULL,
    "token_id" INT NOT NULL REFERENCES "service_token" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_idempotency_token_i_835b47" UNIQUE ("token_id", "key")
);
CREATE INDEX "idx_idempotency_expires_8bff94" ON "idempotency_key" ("expires_at");
CREATE TABLE "webhook_subscription" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "name" VARCHAR(64) NOT NULL,
    "url" VARCHAR(500) NOT NULL,
    "secret_encrypted" TEXT NOT NULL,
    "events" VARCHAR(500) NOT NULL,
    "active" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "deactivated_at" TIMESTAMP,
    "created_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL
);
CREATE TABLE "webhook_delivery" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "event_id" VARCHAR(36) NOT NULL,
    "event_type" VARCHAR(64) NOT NULL,
    "payload" JSON NOT NULL,
    "state" VARCHAR(16) NOT NULL  /* PENDING: pending\nDONE: done\nFAILED: failed */,
    "attempts" INT NOT NULL,
    "next_attempt_at" TIMESTAMP NOT NULL,
    "locked_until" TIMESTAMP,
    "last_status" SMALLINT,
    "last_error" TEXT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "delivered_at" TIMESTAMP,
    "subscription_id" INT NOT NULL REFERENCES "webhook_subscription" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_webhook_del_event_i_02d0eb" UNIQUE ("event_id", "subscription_id")
);
CREATE INDEX "idx_webhook_del_state_c059e4" ON "webhook_delivery" ("state");
CREATE INDEX "idx_webhook_del_next_at_a5fece" ON "webhook_delivery" ("next_attempt_at");
CREATE TABLE "dealer_order" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "number" VARCHAR(32) NOT NULL UNIQUE,
    "kind" VARCHAR(16) NOT NULL  /* NEW: new\nREPLACEMENT: replacement\nMARKETING: marketing */,
    "state" VARCHAR(16) NOT NULL  /* DRAFT: draft\nSUBMITTED: submitted\nACCEPTED: accepted\nRETURNED: returned\nCANCELLED: cancelled */,
    "state_since" TIMESTAMP,
    "amount" VARCHAR(40) NOT NULL,
    "note" VARCHAR(500) NOT NULL,
    "return_reason" VARCHAR(500) NOT NULL,
    "factory_number" VARCHAR(32)  UNIQUE,
    "submitted_at" TIMESTAMP,
    "accepted_at" TIMESTAMP,
    "returned_at" TIMESTAMP,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "accepted_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    "copied_from_id" INT REFERENCES "dealer_order" ("id") ON DELETE SET NULL,
    "created_by_id" INT NOT NULL REFERENCES "staff" ("id") ON DELETE RESTRICT,
    "dealer_id" INT NOT NULL REFERENCES "org_unit" ("id") ON DELETE RESTRICT,
    "warehouse_id" INT REFERENCES "warehouse" ("id") ON DELETE RESTRICT
);
CREATE INDEX "idx_dealer_orde_state_e77983" ON "dealer_order" ("state");
CREATE INDEX "idx_dealer_orde_created_5e1325" ON "dealer_order" ("created_at");
CREATE INDEX "idx_dealer_orde_dealer__ca94e8" ON "dealer_order" ("dealer_id", "state");
CREATE TABLE "dealer_order_event" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "kind" VARCHAR(16) NOT NULL  /* CREATED: created\nSAVED: saved\nSUBMITTED: submitted\nREVISED: revised\nCANCELLED: cancelled\nACCEPTED: accepted\nRETURNED: returned\nCOPIED: copied\nPIECE_MOVED: piece_moved */,
    "payload" JSON NOT NULL,
    "at" TIMESTAMP NOT NULL,
    "actor_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    "order_id" INT NOT NULL REFERENCES "dealer_order" ("id") ON DELETE CASCADE
);
CREATE INDEX "idx_dealer_orde_order_i_d0eabc" ON "dealer_order_event" ("order_id", "at");
CREATE TABLE "dealer_order_line" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "quantity" INT NOT NULL,
    "unit_price" VARCHAR(40),
    "amount" VARCHAR(40),
    "price_source" VARCHAR(64) NOT NULL,
    "order_id" INT NOT NULL REFERENCES "dealer_order" ("id") ON DELETE CASCADE,
    "product_id" INT NOT NULL REFERENCES "product" ("id") ON DELETE RESTRICT,
    CONSTRAINT "uid_dealer_orde_order_i_81e6c9" UNIQUE ("order_id", "product_id")
);
CREATE TABLE "dealer_piece" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "seq" INT NOT NULL,
    "production_number" VARCHAR(64) NOT NULL UNIQUE,
    "state" VARCHAR(16) NOT NULL  /* QUEUED: queued\nIN_PRODUCTION: in_production\nFINISHED: finished\nSHIPPED: shipped\nIN_STOCK: in_stock\nINSTALLED: installed */,
    "state_since" TIMESTAMP,
    "expected_date" DATE,
    "finished_at" TIMESTAMP,
    "created_at" TIMESTAMP NOT NULL,
    "line_id" INT NOT NULL REFERENCES "dealer_order_line" ("id") ON DELETE CASCADE,
    "order_id" INT NOT NULL REFERENCES "dealer_order" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_dealer_piec_line_id_5efc22" UNIQUE ("line_id", "seq")
);
CREATE INDEX "idx_dealer_piec_order_i_6b7758" ON "dealer_piece" ("order_id", "state");
CREATE TABLE "audit_log" ("id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "at" TIMESTAMP NOT NULL, "actor_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL, "actor_userid" VARCHAR(64) NOT NULL, "action" VARCHAR(32) NOT NULL, "order_id" INT, "order_number" VARCHAR(32) NOT NULL, "customer_id" INT, "detail" JSON NOT NULL, "ip" VARCHAR(64) NOT NULL);
