#!/bin/sh
# Produces Debezium change events for the example with `mia-run topics produce` (envelope lines: key = the
# row's primary key as JSON, value = the Debezium envelope). Run it while `mia-run run` serves the project,
# with the same --data-dir. Then: curl localhost:8080/customer-360/1
set -e
cd "$(dirname "$0")"
MIA_RUN="${MIA_RUN:-node ../../bin/mia-run.js}"
DATA_DIR="${DATA_DIR:-.data}"
produce() { $MIA_RUN topics produce project.yaml "$1" --envelope --data-dir "$DATA_DIR"; }

produce erp.public.customers <<'LINES'
{"key":"{\"ID\":1}","value":{"before":null,"after":{"ID":1,"NAME":"Ada Lovelace","EMAIL":"ada@example.com","CREATED_AT":1695141357284},"source":{"connector":"postgresql","db":"erp","table":"customers","ts_ms":1695141357000,"snapshot":"true"},"op":"r","ts_ms":1695141357284,"transaction":null}}
{"key":"{\"ID\":2}","value":{"before":null,"after":{"ID":2,"NAME":"Grace Hopper","EMAIL":"grace@example.com","CREATED_AT":1695141358000},"source":{"connector":"postgresql","db":"erp","table":"customers","ts_ms":1695141358000,"snapshot":"true"},"op":"r","ts_ms":1695141358100,"transaction":null}}
LINES
produce erp.public.orders <<'LINES'
{"key":"{\"ID\":7}","value":{"before":null,"after":{"ID":7,"CUSTOMER_ID":1,"TOTAL_CENTS":1250,"STATUS":"open"},"source":{"connector":"postgresql","db":"erp","table":"orders","ts_ms":1695141359000},"op":"c","ts_ms":1695141359100,"transaction":null}}
{"key":"{\"ID\":8}","value":{"before":null,"after":{"ID":8,"CUSTOMER_ID":1,"TOTAL_CENTS":990,"STATUS":"open"},"source":{"connector":"postgresql","db":"erp","table":"orders","ts_ms":1695141359500},"op":"c","ts_ms":1695141359600,"transaction":null}}
LINES
produce erp.public.order_lines <<'LINES'
{"key":"{\"ORDER_ID\":7,\"LINE_NO\":1}","value":{"before":null,"after":{"ORDER_ID":7,"LINE_NO":1,"SKU":"book","QTY":2},"source":{"connector":"postgresql","db":"erp","table":"order_lines","ts_ms":1695141360000},"op":"c","ts_ms":1695141360100,"transaction":null}}
{"key":"{\"ORDER_ID\":8,\"LINE_NO\":1}","value":{"before":null,"after":{"ORDER_ID":8,"LINE_NO":1,"SKU":"pen","QTY":1},"source":{"connector":"postgresql","db":"erp","table":"order_lines","ts_ms":1695141360500},"op":"c","ts_ms":1695141360600,"transaction":null}}
LINES
# Order 8 moves from customer 1 to customer 2: both single views are recomputed.
produce erp.public.orders <<'LINES'
{"key":"{\"ID\":8}","value":{"before":{"ID":8,"CUSTOMER_ID":1,"TOTAL_CENTS":990,"STATUS":"open"},"after":{"ID":8,"CUSTOMER_ID":2,"TOTAL_CENTS":990,"STATUS":"paid"},"source":{"connector":"postgresql","db":"erp","table":"orders","ts_ms":1695141361000},"op":"u","ts_ms":1695141361100,"transaction":null}}
LINES
echo "done: try curl http://localhost:\${PORT:-8080}/customer-360/1"
