// SPDX-License-Identifier: MIT
pragma solidity ^0.8.0;

/// A minimal smart-contract wallet for the devnet (EIP-1271). `isValidSignature(hash, sig)`
/// accepts a hash its owner approved with `setApproval` (whatever `sig` is), or a 65-byte
/// ECDSA signature `r ‖ s ‖ v` of `hash` by the owner's key. The owner moves its funds with
/// `execute` (e.g. an ERC-20 `approve` of the GPv2 vault relayer).
contract DigestWallet {
    bytes4 internal constant MAGIC = 0x1626ba7e;
    uint256 internal constant HALF_N =
        0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    address public immutable owner;
    mapping(bytes32 => bool) public approved;

    event Approval(bytes32 indexed hash, bool approved);

    constructor(address owner_) {
        owner = owner_;
    }

    modifier onlyOwner() {
        require(msg.sender == owner, "only the owner");
        _;
    }

    function setApproval(bytes32 hash, bool value) external onlyOwner {
        approved[hash] = value;
        emit Approval(hash, value);
    }

    function execute(address to, bytes calldata data) external onlyOwner returns (bytes memory) {
        (bool ok, bytes memory result) = to.call(data);
        require(ok, "call failed");
        return result;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (approved[hash]) {
            return MAGIC;
        }
        if (signature.length == 65) {
            bytes32 r = bytes32(signature[0:32]);
            bytes32 s = bytes32(signature[32:64]);
            uint8 v = uint8(signature[64]);
            if (uint256(s) <= HALF_N && (v == 27 || v == 28)) {
                address signer = ecrecover(hash, v, r, s);
                if (signer != address(0) && signer == owner) {
                    return MAGIC;
                }
            }
        }
        return 0xffffffff;
    }
}
