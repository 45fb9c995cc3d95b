//===- main.cpp - A minimal host program embedding the Kiln runtime -------===//
//
// Builds a tensor, views it transposed without copying, writes it to .npy
// and reads it back; every failure is a kiln::Status printed to stderr.
//
//===----------------------------------------------------------------------===//
#include "kiln/Kiln.h"

#include <cstdio>
#include <string>

static kiln::Status run(const std::string &path) {
  KILN_ASSIGN_OR_RETURN(kiln::Tensor x,
                        kiln::Tensor::arange(6, kiln::DType::F32));
  KILN_ASSIGN_OR_RETURN(kiln::Tensor m, x.reshape({2, 3}));
  KILN_ASSIGN_OR_RETURN(kiln::Tensor t, m.transpose(0, 1));
  KILN_RETURN_IF_ERROR(kiln::writeNpy(path, t));
  KILN_ASSIGN_OR_RETURN(kiln::Tensor back, kiln::readNpy(path));
  std::printf("%s\n", back.toString().c_str());
  return kiln::Status::ok();
}

int main(int argc, char **argv) {
  std::string path = argc > 1 ? argv[1] : "kiln-host-example.npy";
  kiln::Status status = run(path);
  if (!status.isOk()) {
    std::fprintf(stderr, "error: %s\n", status.toString().c_str());
    return 1;
  }
  return 0;
}
