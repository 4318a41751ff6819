# cmake -DOUT=x.cpp -DSYMBOL=name -DFILE=path -P embed_file.cmake
file(READ ${FILE} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
file(WRITE ${OUT} "// generated from ${FILE}\n#include <string_view>\nnamespace eshop::embedded {\nnamespace { constexpr unsigned char kData[] = {${bytes} 0}; }\nstd::string_view ${SYMBOL}() { return {reinterpret_cast<const char*>(kData), sizeof(kData) - 1}; }\n}\n")
