#include <dphys/dphys.hpp>

int main() {}
