/** The users table readers live in @carillon/core (they run in a worker thread, outside the app's bundle). */
export { formatOf, MAX_ROWS, MAX_UPLOAD_BYTES, readCsv, readTable, readTableInThread, readXlsx, type ReadTable, type TableFormat } from '@carillon/core';
