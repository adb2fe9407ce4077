"""Safety limits for input files, in one place so that readers, loader and app agree.

Real township reports are small: a text or saved web page is at most a few hundred KB, a DOCX
under 2 MB, a text PDF a few MB.  The limits leave a wide margin and still stop hostile input
(zip bombs, billion-laughs XML, giant pages) before it costs time or memory.
"""

MAX_FILE_BYTES = 30 * 1024 * 1024          # any single input file
MAX_TEXT_CHARS = 3_000_000                 # decoded text / extracted text of one document
MAX_DOCX_UNCOMPRESSED = 60 * 1024 * 1024   # sum of uncompressed member sizes inside a DOCX
MAX_DOCX_RATIO = 200                       # uncompressed / compressed size of one member
MAX_HTML_DEPTH = 400                       # nesting depth of HTML elements we walk
MAX_PDF_PAGES = 200                        # pages of a PDF we read
MAX_PDF_PAGE_STREAM = 32 * 1024 * 1024     # decoded content of one PDF page (a report page is ~10–200 KB)
MAX_TABLE_CELLS = 20_000                   # cells across all tables of one document
PARSE_SECONDS = 45                         # CPU-time budget for reading and parsing one file
CONVERT_CPU_SECONDS = 60                   # CPU-time limit of one LibreOffice conversion (.doc/.wps/.rtf/.odt)
CONVERT_MAX_OUTPUT_BYTES = 200 * 1024 * 1024   # largest file a conversion may write
PARSE_WALL_FACTOR = 10                     # wall-clock backstop = this × PARSE_SECONDS (a file blocked on I/O)
