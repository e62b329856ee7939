/*
 * layer.c: the empty program each folder's library is linked into whole (CMakeLists.txt,
 * jejak-layer-*), with only the libraries that folder may use: a call across the layering
 * (storage into attribution or tracker, attribution into tracker) fails that link.
 */
int main(void)
{
    return 0;
}
